//! Model inference for the engines: ONNX models run in process, other models through a bridge.
//!
//! | module | what |
//! |---|---|
//! | [`runtime`] | finds and loads the ONNX Runtime library shipped by the `onnxruntime` wheel (`ort`, load-dynamic) |
//! | [`card`] | [`ModelCard`]: the JSON card beside every model, checked against the model file and the engine's features |
//! | [`model`] | [`OnnxModel`]: a session created once, tensors allocated once, one allocation-free `predict` per sample |
//! | [`bridge`] | [`BridgeClient`]: feature vectors to a Python model server over ZeroMQ, predictions back asynchronously; late answers are counted and dropped |
//!
//! # Invariants
//! - A model is refused at load, with an error naming the difference, unless its card lists exactly the
//!   features (names, order, clock, feature code version) the engine computes, and describes this very file
//!   (SHA-256).
//! - Nothing on the prediction path allocates or blocks: [`OnnxModel::predict`] reuses its tensors, and the
//!   bridge's `request`/`poll` only touch bounded lock-free queues; the sockets live on their own thread.
//!
//! This crate depends on `model` only: the strategy that uses a model (`ferrotrade_strategy::builtin::ModelSignal`)
//! sees it through a small trait, and the Python extension connects the two.
#![deny(missing_docs)]

pub mod bridge;
pub mod card;
mod error;
pub mod model;
pub mod runtime;

pub use bridge::{BridgeClient, BridgeConfig, BridgeStats};
pub use card::{ModelCard, Task};
pub use error::InferError;
pub use model::{FeatureContract, OnnxModel};
