//! Latency draws (deterministic for a seed) and the venue config's serde form and validation.

use ferrotrade_sim::{LatencyConfig, LatencyModel, QueueModelConfig, SimError, VenueConfig};

#[test]
fn constant_latency_is_constant() {
    let mut model = LatencyModel::new(&LatencyConfig::Constant { entry_ns: 250_000, response_ns: 180_000 }, 1).unwrap();
    assert_eq!((model.entry(), model.entry(), model.response()), (250_000, 250_000, 180_000));
}

#[test]
fn empirical_latency_is_deterministic_for_a_seed() {
    let config = LatencyConfig::Empirical {
        entry_ns: vec![100_000, 150_000, 200_000, 900_000, 2_500_000],
        response_ns: vec![120_000, 130_000, 140_000],
    };
    let draws = |seed: u64| {
        let mut model = LatencyModel::new(&config, seed).unwrap();
        (0..64).map(|_| (model.entry(), model.response())).collect::<Vec<_>>()
    };
    let first = draws(42);
    assert_eq!(first, draws(42));
    assert_ne!(first, draws(43));
    let LatencyConfig::Empirical { entry_ns, response_ns } = &config else { unreachable!() };
    assert!(first.iter().all(|(entry, response)| entry_ns.contains(entry) && response_ns.contains(response)));
    // Uniform over 5 samples: all of them show up in 64 draws.
    assert!(entry_ns.iter().all(|sample| first.iter().any(|(entry, _)| entry == sample)));
    // Response draws do not depend on how many entry draws happened.
    let mut model = LatencyModel::new(&config, 42).unwrap();
    let responses: Vec<u64> = (0..64).map(|_| model.response()).collect();
    assert_eq!(responses, first.iter().map(|(_, response)| *response).collect::<Vec<_>>());
}

#[test]
fn config_reads_from_toml_with_defaults() {
    let config: VenueConfig = toml::from_str(
        r#"
        seed = 7
        bar_slippage_bps = 1.5
        fees = { maker = -0.0001, taker = "0.0005" }
        queue = { model = "power", exponent = 2 }
        latency = { model = "empirical", entry_ns = [180000, 250000], response_ns = [200000] }
        "#,
    )
    .unwrap();
    config.validate().unwrap();
    assert_eq!(config.seed, 7);
    assert_eq!((config.fees.maker.mantissa, config.fees.maker.scale), (-1, 4));
    assert_eq!(config.queue, QueueModelConfig::Power { exponent: 2.0 });
    let defaults: VenueConfig = toml::from_str("").unwrap();
    assert_eq!(defaults, VenueConfig::default());
    assert_eq!(defaults.queue, QueueModelConfig::RiskAverse);
    assert_eq!(defaults.latency, LatencyConfig::Constant { entry_ns: 0, response_ns: 0 });
    let log: VenueConfig = toml::from_str(r#"queue = { model = "log" }"#).unwrap();
    assert_eq!(log.queue, QueueModelConfig::Log);
}

#[test]
fn unknown_keys_are_errors() {
    for text in [
        "sed = 1",
        "fees = { maker = 0, taker = 0, vip = 1 }",
        r#"queue = { model = "risk_averse", exponent = 2 }"#,
        r#"queue = { model = "fifo" }"#,
        r#"latency = { model = "constant", entry_ns = 1, response_ns = 1, jitter_ns = 5 }"#,
    ] {
        assert!(toml::from_str::<VenueConfig>(text).is_err(), "{text}");
    }
}

#[test]
fn validate_names_the_bad_key() {
    let key_of = |text: &str| match toml::from_str::<VenueConfig>(text).unwrap().validate() {
        Err(SimError::Config { key, .. }) => key,
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(key_of("fees = { maker = 0.000000001, taker = 0 }"), "fees.maker");
    assert_eq!(key_of("fees = { maker = 0, taker = 1 }"), "fees.taker");
    assert_eq!(key_of(r#"queue = { model = "power", exponent = -1 }"#), "queue.exponent");
    assert_eq!(key_of(r#"latency = { model = "empirical", entry_ns = [], response_ns = [1] }"#), "latency.entry_ns");
    assert_eq!(key_of("bar_slippage_bps = -1"), "bar_slippage_bps");
    assert_eq!(key_of("bar_slippage_bps = 10000"), "bar_slippage_bps");
    assert!(LatencyModel::new(&LatencyConfig::Empirical { entry_ns: vec![1], response_ns: vec![] }, 0).is_err());
}
