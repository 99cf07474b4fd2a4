//! An in-memory [`ObjectStore`] with the same conditional semantics as S3,
//! for testing the protocol: lost races, stale ETags, an outage switched on
//! and off.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;

use super::store::{ObjectStore, StoreError, Versioned};

#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, Versioned>>,
    versions: AtomicU64,
    down: AtomicBool,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// While down, every call fails as an unreachable S3 endpoint would.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// The stored keys, for assertions.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Versioned>> {
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reachable(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unreachable("the store is down".into()));
        }
        Ok(())
    }

    fn next_etag(&self) -> String {
        format!("\"v{}\"", self.versions.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.reachable()?;
        Ok(self.lock().get(key).cloned())
    }

    async fn create(&self, key: &str, body: Vec<u8>) -> Result<String, StoreError> {
        self.reachable()?;
        let mut objects = self.lock();
        if objects.contains_key(key) {
            return Err(StoreError::Precondition { key: key.into() });
        }
        let etag = self.next_etag();
        objects.insert(
            key.into(),
            Versioned {
                body,
                etag: etag.clone(),
            },
        );
        Ok(etag)
    }

    async fn replace(&self, key: &str, body: Vec<u8>, etag: &str) -> Result<String, StoreError> {
        self.reachable()?;
        let mut objects = self.lock();
        match objects.get(key) {
            Some(current) if current.etag == etag => {}
            _ => return Err(StoreError::Precondition { key: key.into() }),
        }
        let etag = self.next_etag();
        objects.insert(
            key.into(),
            Versioned {
                body,
                etag: etag.clone(),
            },
        );
        Ok(etag)
    }

    async fn delete(&self, key: &str, etag: &str) -> Result<(), StoreError> {
        self.reachable()?;
        let mut objects = self.lock();
        match objects.get(key) {
            Some(current) if current.etag == etag => {
                objects.remove(key);
                Ok(())
            }
            _ => Err(StoreError::Precondition { key: key.into() }),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.reachable()?;
        Ok(self
            .lock()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_hold_only_while_their_condition_does() {
        let store = MemoryStore::new();
        let first = store.create("k", b"a".to_vec()).await.unwrap();
        assert!(matches!(
            store.create("k", b"b".to_vec()).await,
            Err(StoreError::Precondition { .. })
        ));
        let second = store.replace("k", b"c".to_vec(), &first).await.unwrap();
        assert!(matches!(
            store.replace("k", b"d".to_vec(), &first).await,
            Err(StoreError::Precondition { .. })
        ));
        assert!(matches!(
            store.delete("k", &first).await,
            Err(StoreError::Precondition { .. })
        ));
        store.delete("k", &second).await.unwrap();
        assert_eq!(store.get("k").await.unwrap(), None);
        assert!(matches!(
            store.replace("k", b"e".to_vec(), &second).await,
            Err(StoreError::Precondition { .. })
        ));
        store.set_down(true);
        assert!(store.get("k").await.unwrap_err().is_outage());
    }
}
