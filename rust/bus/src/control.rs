//! [`ControlRequest`]: a checked command on its way to the engine, and the reply's way back.

use std::time::Instant;

use tokio::sync::oneshot;

use crate::proto;

/// A command whose token was right, for the engine to carry out and answer.
#[derive(Debug)]
pub struct ControlRequest {
    /// What to do.
    pub command: proto::command::Command,
    /// The client's id, echoed in the reply.
    pub request_id: u64,
    /// When the bus received it (a kill's elapsed time counts from here).
    pub received: Instant,
    /// Where the command came from (`control` socket or `http`), for the engine's log.
    pub origin: &'static str,
    reply: oneshot::Sender<proto::Reply>,
}

impl ControlRequest {
    /// A request and the receiver of its reply.
    #[must_use]
    #[allow(clippy::disallowed_methods)] // the bus is an I/O edge: the kill's elapsed time is wall time
    pub fn new(
        command: proto::command::Command,
        request_id: u64,
        origin: &'static str,
    ) -> (ControlRequest, oneshot::Receiver<proto::Reply>) {
        let (reply, answer) = oneshot::channel();
        (ControlRequest { command, request_id, received: Instant::now(), origin, reply }, answer)
    }

    /// Answers the command (the reply's `request_id` is set here); a client that left is not an error.
    pub fn reply(self, mut reply: proto::Reply) {
        reply.request_id = self.request_id;
        let _ = self.reply.send(reply);
    }

    /// Answers with success and an optional body.
    pub fn ok(self, body: Option<proto::reply::Reply>) {
        self.reply(proto::Reply { request_id: 0, ok: true, error: String::new(), reply: body });
    }

    /// Answers with an error.
    pub fn fail(self, error: impl Into<String>) {
        self.reply(proto::Reply { request_id: 0, ok: false, error: error.into(), reply: None });
    }
}

/// The short name of a command, for logs and replies.
#[must_use]
pub fn command_name(command: &proto::command::Command) -> &'static str {
    use proto::command::Command;
    match command {
        Command::Status(_) => "status",
        Command::Halt(_) => "halt",
        Command::Resume(_) => "resume",
        Command::ReduceOnly(_) => "reduce-only",
        Command::Kill(_) => "kill",
        Command::Set(_) => "set",
        Command::Snapshot(_) => "snapshot",
    }
}
