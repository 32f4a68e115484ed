//! The example model of `models/` (a LightGBM classifier, 100 trees over 16 features of real hourly
//! BTCUSDT klines, exported by `make models`) loaded through the onnxruntime wheel's library: it predicts
//! what ONNX Runtime in Python predicted for the rows its card samples, allocates nothing per prediction,
//! and is refused at load when its card does not match the engine's features or its own file.
//!
//! The library is found as the engine finds it: `FERROTRADE_ONNXRUNTIME`, else the Python package
//! (`make rust-test` points both at the project's `.venv`).
#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ferrotrade_infer::{FeatureContract, InferError, ModelCard, OnnxModel};
use serde_json::Value;

struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

// SAFETY: forwards every call unchanged to the system allocator; counting touches no allocator state.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/btcusdt_1h_gbm.onnx")
}

fn card_json() -> Value {
    let text = std::fs::read_to_string(ferrotrade_infer::card::card_path(&model_path())).expect("the example card");
    serde_json::from_str(&text).expect("json")
}

fn contract() -> FeatureContract {
    let card = card_json();
    FeatureContract {
        names: serde_json::from_value(card["features"]["names"].clone()).expect("names"),
        clock: card["features"]["clock"].clone(),
        code_version: ferrotrade_features::FEATURE_CODE_VERSION.to_owned(),
    }
}

fn runtime() -> PathBuf {
    ferrotrade_infer::runtime::locate().expect("the onnxruntime library (make rust-test sets FERROTRADE_ONNXRUNTIME)")
}

#[test]
fn the_example_model_predicts_what_onnxruntime_predicted_in_python() {
    let mut model = OnnxModel::load(&model_path(), &runtime(), &contract()).expect("the example model loads");
    assert_eq!(model.feature_count(), 16);
    let card = card_json();
    let sample = &card["parity"]["sample"];
    let rows: Vec<Vec<f64>> = serde_json::from_value(sample["features"].clone()).expect("rows");
    let expected: Vec<Vec<f64>> = serde_json::from_value(sample["onnxruntime"].clone()).expect("outputs");
    assert!(rows.len() >= 5);
    for (row, want) in rows.iter().zip(&expected) {
        let signal = model.predict(row).expect("predict");
        for (got, want) in model.outputs().iter().zip(want) {
            assert!((f64::from(*got) - want).abs() <= 1e-6, "{got} vs {want}");
        }
        // Classes [0, 1]: the signal is P(up).
        assert!((signal - want[1]).abs() <= 1e-6);
    }
}

#[test]
fn a_prediction_allocates_nothing() {
    let mut model = OnnxModel::load(&model_path(), &runtime(), &contract()).expect("load");
    let row = vec![0.01; model.feature_count()];
    for _ in 0..10 {
        model.predict(&row).expect("warm-up");
    }
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let mut total = 0.0;
    for i in 0..1_000 {
        let mut features = row.clone_from_slice_free();
        features[0] = f64::from(i) * 1e-4;
        total += model.predict(&features).expect("predict");
    }
    COUNTING.store(false, Ordering::Relaxed);
    assert!(total.is_finite());
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), 0, "Rust allocations during 1000 predictions");
}

/// A fixed-size copy that does not allocate (the test's own loop must not be what it counts).
trait CloneFree {
    fn clone_from_slice_free(&self) -> [f64; 16];
}

impl CloneFree for Vec<f64> {
    fn clone_from_slice_free(&self) -> [f64; 16] {
        let mut out = [0.0; 16];
        out.copy_from_slice(&self[..16]);
        out
    }
}

fn refused(contract: &FeatureContract) -> InferError {
    OnnxModel::load(&model_path(), &runtime(), contract).expect_err("a mismatching model must be refused")
}

#[test]
fn a_card_that_does_not_match_the_engines_features_is_refused_at_load() {
    let good = contract();
    let mut swapped = good.clone();
    swapped.names.swap(0, 1);
    let error = refused(&swapped);
    assert!(matches!(error, InferError::FeatureMismatch { what: "feature names", .. }), "{error}");
    assert!(error.to_string().contains("first difference at position 0"), "{error}");
    let mut fewer = good.clone();
    fewer.names.pop();
    assert!(matches!(refused(&fewer), InferError::FeatureMismatch { what: "feature names", .. }));
    let mut clock = good.clone();
    clock.clock = Value::from("book");
    assert!(matches!(refused(&clock), InferError::FeatureMismatch { what: "clock", .. }));
    let mut version = good;
    version.code_version = "0".into();
    let error = refused(&version);
    assert!(matches!(error, InferError::FeatureMismatch { what: "feature code version", .. }), "{error}");
}

#[test]
fn a_card_that_describes_another_file_is_refused() {
    let dir = std::env::temp_dir().join(format!("ferrotrade-infer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let model = dir.join("btcusdt_1h_gbm.onnx");
    let mut bytes = std::fs::read(model_path()).expect("model");
    std::fs::write(&model, &bytes).expect("copy");
    std::fs::write(ferrotrade_infer::card::card_path(&model), card_json().to_string()).expect("card");
    assert!(ModelCard::for_model(&model).is_ok());
    // One byte changed after the card was written.
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&model, &bytes).expect("tamper");
    let error = ModelCard::for_model(&model).expect_err("tampered model");
    assert!(error.to_string().contains("does not match"), "{error}");
    // No card at all.
    std::fs::remove_file(ferrotrade_infer::card::card_path(&model)).expect("remove card");
    assert!(matches!(ModelCard::for_model(&model), Err(InferError::Io { .. })));
    let _ = std::fs::remove_dir_all(&dir);
}
