//! The demo application the seed's smoke tests probe, served per region on
//! 127.0.0.1 under a region prefix (`/us-west-2/health`, ...). Its answers
//! follow the simulated world: health fails while the region is down, the
//! database check while its database is unreachable, and writes while that
//! database is a read-only secondary, and a path a drill made fail answers
//! the status it was given.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::task::JoinHandle;

use super::world::SimWorld;

#[derive(Clone)]
struct App {
    world: Arc<SimWorld>,
    /// Issued bearer tokens and whom they belong to; valid in every region,
    /// as a token signed with a shared key would be.
    sessions: Arc<Mutex<HashMap<String, String>>>,
}

/// Serves the demo application on `addr`, which must be a loopback address
/// (port 0 picks a free port). Returns the bound address and the server task.
pub async fn serve_demo_app(
    world: Arc<SimWorld>,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, JoinHandle<std::io::Result<()>>)> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the demo application only listens on loopback, not {addr}"),
        ));
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let router = router(App {
        world,
        sessions: Arc::default(),
    });
    let task = tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((bound, task))
}

fn router(app: App) -> Router {
    Router::new()
        .route("/{region}/health", get(health))
        .route("/{region}/health/db", get(db_health))
        .route("/{region}/auth/login", post(login))
        .route("/{region}/api/users/me", get(me))
        .route("/{region}/api/test/write", post(write))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            injected_failure,
        ))
        .with_state(app)
}

/// Answers a request to a path a drill made fail with the injected status,
/// before its handler runs.
async fn injected_failure(State(app): State<App>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let failing = path
        .strip_prefix('/')
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(region, rest)| app.world.failing_endpoint(region, &format!("/{rest}")));
    match failing.and_then(|s| StatusCode::from_u16(s).ok()) {
        Some(status) => answer(
            status,
            json!({ "status": "error", "error": format!("injected failure: {status}") }),
        ),
        None => next.run(request).await,
    }
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

/// Why a request is turned away.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let state = if self.status == StatusCode::SERVICE_UNAVAILABLE {
            "unavailable"
        } else {
            "refused"
        };
        answer(
            self.status,
            json!({ "status": state, "error": self.message }),
        )
    }
}

fn unavailable(message: String) -> Refusal {
    Refusal {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message,
    }
}

/// The region's application tier answers, or the error response to send.
fn region_up(app: &App, region: &str) -> Result<(), Refusal> {
    match app.world.region_up(region) {
        Some(true) => Ok(()),
        Some(false) => Err(unavailable(format!("{region} is not responding"))),
        None => Err(Refusal {
            status: StatusCode::NOT_FOUND,
            message: format!("no region {region}"),
        }),
    }
}

fn database_up(app: &App, region: &str) -> Result<bool, Refusal> {
    region_up(app, region)?;
    match app.world.region_database(region) {
        Some(db) if db.available => Ok(db.writable),
        Some(_) => Err(unavailable(format!("database in {region} is unreachable"))),
        None => Err(unavailable(format!("no database in {region}"))),
    }
}

fn signed_in(app: &App, headers: &HeaderMap) -> Result<String, Refusal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let sessions = app.sessions.lock().unwrap_or_else(|p| p.into_inner());
    token
        .and_then(|t| sessions.get(t).cloned())
        .ok_or_else(|| Refusal {
            status: StatusCode::UNAUTHORIZED,
            message: "missing or unknown bearer token".into(),
        })
}

async fn health(State(app): State<App>, Path(region): Path<String>) -> Response {
    match region_up(&app, &region) {
        Ok(()) => answer(StatusCode::OK, json!({ "status": "ok", "region": region })),
        Err(refusal) => refusal.into_response(),
    }
}

async fn db_health(State(app): State<App>, Path(region): Path<String>) -> Response {
    match database_up(&app, &region) {
        Ok(writable) => answer(
            StatusCode::OK,
            json!({ "status": "ok", "region": region, "writable": writable }),
        ),
        Err(refusal) => refusal.into_response(),
    }
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

async fn login(
    State(app): State<App>,
    Path(region): Path<String>,
    Json(credentials): Json<Credentials>,
) -> Response {
    if let Err(refusal) = database_up(&app, &region) {
        return refusal.into_response();
    }
    if !credentials.email.contains('@') || credentials.password.is_empty() {
        return Refusal {
            status: StatusCode::UNAUTHORIZED,
            message: "invalid email or password".into(),
        }
        .into_response();
    }
    let token = format!("demo-{:032x}", rand::random::<u128>());
    app.sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(token.clone(), credentials.email);
    answer(StatusCode::OK, json!({ "token": token }))
}

async fn me(State(app): State<App>, Path(region): Path<String>, headers: HeaderMap) -> Response {
    if let Err(refusal) = database_up(&app, &region) {
        return refusal.into_response();
    }
    match signed_in(&app, &headers) {
        Ok(email) => answer(StatusCode::OK, json!({ "email": email, "region": region })),
        Err(refusal) => refusal.into_response(),
    }
}

async fn write(State(app): State<App>, Path(region): Path<String>, headers: HeaderMap) -> Response {
    let writable = match database_up(&app, &region) {
        Ok(writable) => writable,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(refusal) = signed_in(&app, &headers) {
        return refusal.into_response();
    }
    if !writable {
        return unavailable(format!(
            "database in {region} is read-only (a replica or mid-promotion); writes go to the primary"
        ))
        .into_response();
    }
    answer(StatusCode::OK, json!({ "written": true, "region": region }))
}
