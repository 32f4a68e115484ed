//! The replay: every session of the captures is read on its own thread ([`reader`]) and dispatched by
//! an async task that paces the frames, applies their market content to the exchange (books, matching
//! of resting orders) and queues the recorded bytes to the connections subscribed to their stream.
//!
//! # Ordering
//! Within a session, frames reach every subscriber in recorded order (the reorder fault aside): one task
//! dispatches them one after the other, and each connection's queue is FIFO. A frame is applied to the
//! exchange *before* it is queued, so a REST depth answer never lags a diff the client may already hold.
//!
//! # Pacing
//! [`Speed::Realtime`]: frame `i` is due at `start + (ts_recv(i) - ts_recv(0)) / multiplier`; a
//! subscriber whose queue is full is disconnected at once (a venue does not wait for slow readers).
//! [`Speed::Max`]: no pacing; the dispatcher waits for room in a full queue up to
//! [`crate::SessionLimits::slow_subscriber_timeout`], so every frame reaches every subscriber that keeps
//! reading, and one that stalls longer is disconnected and counted.
pub(crate) mod reader;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::error::{SendTimeoutError, TrySendError};
use tokio::time::Instant;

use crate::capture::SessionPlan;
use crate::clock::wall_ms;
use crate::config::Speed;
use crate::hub::{Delivery, Out};
use crate::state::{Shared, lock};
use crate::wire::user;

/// Waits for the start signal, replays every session concurrently, then marks the replay done.
///
/// # Cancel safety
/// Meant to be spawned and stopped through [`Shared::shutdown`]: each session then sets its reader's
/// cancel flag and drops its channel, so the reader threads end at their next frame.
pub(crate) async fn run(shared: Arc<Shared>, sessions: Vec<SessionPlan>) {
    let mut started = shared.started.subscribe();
    let mut shutdown = shared.shutdown.subscribe();
    tokio::select! {
        () = crate::state::raised(&mut started) => {}
        () = crate::state::raised(&mut shutdown) => return,
    }
    let mut tasks = Vec::with_capacity(sessions.len());
    for session in sessions {
        tasks.push(tokio::spawn(run_session(Arc::clone(&shared), session, Arc::new(AtomicBool::new(false)))));
    }
    for task in tasks {
        let _ = task.await;
    }
    let held = lock(&shared.hub).flush_held();
    deliver(&shared, held).await;
    shared.done.send_replace(true);
}

async fn run_session(shared: Arc<Shared>, session: SessionPlan, cancel: Arc<AtomicBool>) {
    let Ok((mut rx, handle)) = reader::spawn(session, Arc::clone(&shared.instruments), Arc::clone(&cancel)) else {
        return;
    };
    let mut shutdown = shared.shutdown.subscribe();
    let mut origin: Option<(Instant, u64)> = None;
    loop {
        let item = tokio::select! {
            item = rx.recv() => item,
            () = crate::state::raised(&mut shutdown) => None,
        };
        let Some(item) = item else { break };
        shared.counters.frames_read.fetch_add(1, Ordering::Relaxed);
        if let Speed::Realtime(multiplier) = shared.config.speed
            && multiplier.is_finite()
            && multiplier > 0.0
        {
            let (start, first) = *origin.get_or_insert((Instant::now(), item.ts_recv.0));
            let elapsed_ns = item.ts_recv.0.saturating_sub(first) as f64 / multiplier;
            let due = start + Duration::from_nanos(elapsed_ns as u64);
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = crate::state::raised(&mut shutdown) => break,
            }
        }
        let pushes = {
            let mut exchange = lock(&shared.exchange);
            let executions = exchange.apply(&item.events, wall_ms());
            user::pushes(&exchange, &executions)
        };
        user::deliver(&shared, pushes);
        if let Some(route) = &item.route {
            let deliveries = lock(&shared.hub).market_deliveries(route, &item.frame, &shared.counters);
            deliver(&shared, deliveries).await;
        }
        shared.progress.send_modify(|frames| *frames += 1);
    }
    cancel.store(true, Ordering::Relaxed);
    drop(rx);
    if let Ok(report) = tokio::task::spawn_blocking(move || handle.join()).await
        && let Ok(report) = report
    {
        shared.counters.bad_records.fetch_add(report.bad_records, Ordering::Relaxed);
    }
}

/// Queues recorded frames; disconnects the connections that cannot take them (see the module docs).
async fn deliver(shared: &Shared, deliveries: Vec<Delivery>) {
    let wait = shared.config.sessions.slow_subscriber_timeout;
    for delivery in deliveries {
        for frame in delivery.frames {
            let out = Out::Text(frame, Instant::now());
            let slow = match shared.config.speed {
                Speed::Max => matches!(delivery.tx.send_timeout(out, wait).await, Err(SendTimeoutError::Timeout(_))),
                Speed::Realtime(_) => matches!(delivery.tx.try_send(out), Err(TrySendError::Full(_))),
            };
            if slow {
                shared.counters.slow_disconnects.fetch_add(1, Ordering::Relaxed);
                lock(&shared.hub).kill(delivery.id);
                break;
            }
            shared.counters.frames_sent.fetch_add(1, Ordering::Relaxed);
        }
    }
}
