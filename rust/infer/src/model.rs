//! [`OnnxModel`]: one ONNX session with its input and output tensors allocated once.
//!
//! A prediction writes the feature vector (as `f32`, the type the model was trained and exported with)
//! into the input tensor the session was given at load, runs the session with its outputs pre-allocated,
//! and reads the result from those outputs: no Rust allocation per prediction (a test counts them). ONNX
//! Runtime runs single-threaded per session (`intra_op` = `inter_op` = 1): one row through a tree ensemble
//! is microseconds of work, less than waking a thread pool would cost, and the engine thread must not
//! compete with helpers for the machine's cores.
//!
//! The result is the model's *signal*, one number a strategy compares with its thresholds:
//! - classification: the expected class value `sum(p_i x class_i)` — for classes `[0, 1]` the probability
//!   of class 1, for `[-1, 0, 1]` `P(up) - P(down)`;
//! - regression: the predicted value.

use std::path::{Path, PathBuf};

use ort::memory::Allocator;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{HasSelectedOutputs, OutputSelector, RunOptions, Session};
use ort::value::Tensor;
use serde_json::Value;

use crate::card::{ModelCard, Task};
use crate::error::InferError;

/// What the engine computes, to check a model card against.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureContract {
    /// Feature names, in input order.
    pub names: Vec<String>,
    /// The clock, in its configuration JSON form (`"bars"`, `"book"`, `{"interval_ms": 1000}`).
    pub clock: Value,
    /// The feature code version of this build.
    pub code_version: String,
}

/// A loaded model; see the module docs.
pub struct OnnxModel {
    path: PathBuf,
    card: ModelCard,
    session: Session,
    input: Tensor<f32>,
    options: RunOptions<HasSelectedOutputs>,
    output_name: String,
    /// Class values in probability order (empty for regression).
    classes: Vec<f64>,
    /// The last prediction's raw outputs (probabilities, or the one value).
    last: Vec<f32>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel").field("path", &self.path).field("name", &self.card.name).finish_non_exhaustive()
    }
}

fn ort_error(error: impl std::fmt::Display) -> InferError {
    InferError::Run(error.to_string())
}

impl OnnxModel {
    /// Loads `model` (an `.onnx` file with its card beside it) on the ONNX Runtime library at `runtime`,
    /// refusing it unless its card matches `contract`.
    ///
    /// # Errors
    /// [`InferError::Runtime`] (library), [`InferError::Io`] / [`InferError::Card`] (files),
    /// [`InferError::FeatureMismatch`] (trained on other features) or [`InferError::Graph`] (the graph does
    /// not have the input and outputs its card names, with the right shapes).
    pub fn load(model: &Path, runtime: &Path, contract: &FeatureContract) -> Result<OnnxModel, InferError> {
        let card = ModelCard::for_model(model)?;
        card.check_features(model, &contract.names, &contract.clock, &contract.code_version)?;
        let environment = crate::runtime::environment(runtime)?;
        let graph_error = |message: String| InferError::Graph { path: model.to_path_buf(), message };
        let session = Session::builder(environment)
            .and_then(|builder| builder.with_optimization_level(GraphOptimizationLevel::Level3).map_err(Into::into))
            .and_then(|builder| builder.with_intra_threads(1).map_err(Into::into))
            .and_then(|builder| builder.with_inter_threads(1).map_err(Into::into))
            .and_then(|mut builder| builder.commit_from_file(model))
            .map_err(|error| graph_error(format!("ONNX Runtime cannot load it: {error}")))?;
        let inputs: Vec<String> = session.inputs().iter().map(|input| input.name().to_owned()).collect();
        if inputs != [card.input.name.clone()] {
            return Err(graph_error(format!("inputs {inputs:?}, but the card names one input {:?}", card.input.name)));
        }
        let outputs: Vec<String> = session.outputs().iter().map(|output| output.name().to_owned()).collect();
        let (output_name, width) = match card.task {
            Task::Classification => (card.outputs.probabilities.clone().unwrap_or_default(), card.classes.len()),
            Task::Regression => (card.outputs.value.clone().unwrap_or_default(), 1),
        };
        if !outputs.contains(&output_name) {
            return Err(graph_error(format!("outputs {outputs:?} lack {output_name:?} named by the card")));
        }
        let features = contract.names.len();
        let input = Tensor::from_array(([1_usize, features], vec![0.0_f32; features]))
            .map_err(|error| graph_error(format!("input tensor: {error}")))?;
        let output = Tensor::<f32>::new(&Allocator::default(), [1_usize, width])
            .map_err(|error| graph_error(format!("output tensor: {error}")))?;
        let options = RunOptions::new().map_err(|error| graph_error(error.to_string()))?.with_outputs(
            OutputSelector::no_default().with(output_name.clone()).preallocate(output_name.clone(), output),
        );
        let classes = if card.task == Task::Classification { card.classes.clone() } else { Vec::new() };
        let mut model = OnnxModel {
            path: model.to_path_buf(),
            card,
            session,
            input,
            options,
            output_name,
            classes,
            last: vec![0.0; width],
        };
        // One run now: shape errors surface at load, and the first real prediction is not a cold one.
        model
            .predict(&vec![0.0; features])
            .map_err(|error| graph_error(format!("a trial prediction failed: {error}")))?;
        Ok(model)
    }

    /// The card.
    #[must_use]
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// Number of input features.
    #[must_use]
    pub fn feature_count(&self) -> usize {
        self.card.features.names.len()
    }

    /// The raw outputs of the last prediction: class probabilities, or the one regression value.
    #[must_use]
    pub fn outputs(&self) -> &[f32] {
        &self.last
    }

    /// Predicts from one feature vector (in card order; `NaN` is passed through as the trees' missing
    /// value) and returns the signal (see the module docs). Allocates nothing.
    ///
    /// # Errors
    /// [`InferError::Run`] for a vector of the wrong length or a failure inside ONNX Runtime.
    pub fn predict(&mut self, features: &[f64]) -> Result<f64, InferError> {
        let (_, input) = self.input.extract_tensor_mut();
        if features.len() != input.len() {
            return Err(InferError::Run(format!("{} features given, the model takes {}", features.len(), input.len())));
        }
        for (slot, value) in input.iter_mut().zip(features) {
            #[allow(clippy::cast_possible_truncation)]
            let narrowed = *value as f32;
            *slot = narrowed;
        }
        let outputs = self.session.run_with_options(ort::inputs![&self.input], &self.options).map_err(ort_error)?;
        let value = outputs.get(self.output_name.as_str()).ok_or_else(|| ort_error("the output is missing"))?;
        let (_, data) = value.try_extract_tensor::<f32>().map_err(ort_error)?;
        if data.len() != self.last.len() {
            return Err(ort_error(format!("{} outputs, expected {}", data.len(), self.last.len())));
        }
        self.last.copy_from_slice(data);
        Ok(if self.classes.is_empty() {
            f64::from(self.last[0])
        } else {
            self.last.iter().zip(&self.classes).map(|(probability, class)| f64::from(*probability) * class).sum()
        })
    }
}
