//! The streaming indicators against the textbook formulas, recomputed from scratch at every step, on five
//! months of real hourly Binance BTCUSDT klines (tests/data/binance-vision, see tests/data/SOURCES.md).
//!
//! The references below are deliberately naive: each value is computed from the whole history or window
//! with the formula as written in the literature (Wilder 1978 for RSI and ATR, Appel for MACD, Lane for the
//! stochastic, Bollinger's bands with the population deviation, Granville's OBV), so a shortcut in the
//! streaming code (running sums, Welford updates, incremental weights) cannot hide an error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ferrotrade_features::indicators::{Atr, Bollinger, Ema, Macd, Obv, RollingVwap, Rsi, Sma, Stochastic, Wma};

struct Kline {
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    quote_volume: f64,
}

fn klines() -> Vec<Kline> {
    let mut out = Vec::new();
    for month in 1..=5 {
        let path =
            format!("{}/../../tests/data/binance-vision/BTCUSDT-1h-2023-{month:02}.csv", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("the klines are in tests/data");
        for line in text.lines().filter(|line| !line.starts_with("open_time")) {
            let fields: Vec<f64> = line.split(',').map(|field| field.parse().expect("a number")).collect();
            out.push(Kline {
                high: fields[2],
                low: fields[3],
                close: fields[4],
                volume: fields[5],
                quote_volume: fields[7],
            });
        }
    }
    assert!(out.len() > 3_500, "five months of hourly bars");
    out
}

fn closes() -> Vec<f64> {
    klines().iter().map(|k| k.close).collect()
}

/// Relative agreement (values here are prices or bounded oscillators).
fn close_to(got: f64, want: f64, tolerance: f64) -> bool {
    (got - want).abs() <= tolerance * want.abs().max(1.0)
}

fn check(name: &str, got: &[Option<f64>], want: &[Option<f64>], tolerance: f64) {
    assert_eq!(got.len(), want.len());
    let mut compared = 0;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        match (g, w) {
            (Some(g), Some(w)) => {
                assert!(close_to(*g, *w, tolerance), "{name} at {i}: {g} vs textbook {w}");
                compared += 1;
            }
            (None, None) => {}
            _ => panic!("{name} at {i}: readiness differs ({g:?} vs textbook {w:?})"),
        }
    }
    assert!(compared > 3_000, "{name}: only {compared} values compared");
}

fn textbook_sma(x: &[f64], n: usize, i: usize) -> Option<f64> {
    (i + 1 >= n).then(|| x[i + 1 - n..=i].iter().sum::<f64>() / n as f64)
}

/// EMA seeded with the SMA of the first n values, by its recursive definition from the start.
fn textbook_ema_series(x: &[f64], n: usize) -> Vec<Option<f64>> {
    let alpha = 2.0 / (n as f64 + 1.0);
    let mut out = vec![None; x.len()];
    if x.len() < n {
        return out;
    }
    let mut value = x[..n].iter().sum::<f64>() / n as f64;
    out[n - 1] = Some(value);
    for i in n..x.len() {
        value = alpha * x[i] + (1.0 - alpha) * value;
        out[i] = Some(value);
    }
    out
}

#[test]
fn moving_averages() {
    let x = closes();
    for n in [1, 5, 20, 50] {
        let mut sma = Sma::new(n);
        let mut wma = Wma::new(n);
        let mut ema = Ema::new(n);
        let got_sma: Vec<_> = x.iter().map(|v| sma.update(*v)).collect();
        let got_wma: Vec<_> = x.iter().map(|v| wma.update(*v)).collect();
        let got_ema: Vec<_> = x.iter().map(|v| ema.update(*v)).collect();
        let want_sma: Vec<_> = (0..x.len()).map(|i| textbook_sma(&x, n, i)).collect();
        let denominator = (n * (n + 1) / 2) as f64;
        let want_wma: Vec<_> = (0..x.len())
            .map(|i| {
                (i + 1 >= n).then(|| {
                    x[i + 1 - n..=i].iter().enumerate().map(|(j, v)| (j + 1) as f64 * v).sum::<f64>() / denominator
                })
            })
            .collect();
        check(&format!("sma_{n}"), &got_sma, &want_sma, 1e-12);
        check(&format!("wma_{n}"), &got_wma, &want_wma, 1e-12);
        check(&format!("ema_{n}"), &got_ema, &textbook_ema_series(&x, n), 1e-12);
    }
}

#[test]
fn rsi_is_wilders() {
    let x = closes();
    let n = 14;
    let mut rsi = Rsi::new(n);
    let got: Vec<_> = x.iter().map(|v| rsi.update(*v)).collect();
    // Wilder: first averages are plain means of the first n changes, then (prev (n-1) + current) / n.
    let changes: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let mut want = vec![None; x.len()];
    let (mut gain, mut loss) = (0.0, 0.0);
    for (j, change) in changes.iter().enumerate() {
        let (g, l) = (change.max(0.0), (-change).max(0.0));
        if j < n {
            gain += g;
            loss += l;
            if j == n - 1 {
                gain /= n as f64;
                loss /= n as f64;
            }
        } else {
            gain = (gain * (n as f64 - 1.0) + g) / n as f64;
            loss = (loss * (n as f64 - 1.0) + l) / n as f64;
        }
        if j >= n - 1 {
            want[j + 1] = Some(100.0 - 100.0 / (1.0 + gain / loss));
        }
    }
    check("rsi_14", &got, &want, 1e-9);
}

#[test]
fn macd_is_an_ema_difference_and_its_ema() {
    let x = closes();
    let mut macd = Macd::new(12, 26, 9);
    let got: Vec<_> = x.iter().map(|v| macd.update(*v).map(|m| m.histogram)).collect();
    let fast = textbook_ema_series(&x, 12);
    let slow = textbook_ema_series(&x, 26);
    let line: Vec<f64> = fast.iter().zip(&slow).filter_map(|(f, s)| Some((*f)? - (*s)?)).collect();
    let signal = textbook_ema_series(&line, 9);
    let offset = x.len() - line.len();
    let want: Vec<_> = (0..x.len()).map(|i| i.checked_sub(offset).and_then(|j| Some(line[j] - signal[j]?))).collect();
    // The histogram is a small difference of large EMAs: compare against the price scale.
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        match (g, w) {
            (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-9 * x[i], "macd at {i}: {g} vs {w}"),
            (None, None) => {}
            _ => panic!("macd readiness differs at {i}"),
        }
    }
    assert!(got.iter().flatten().count() > 3_000);
}

#[test]
fn stochastic_and_atr() {
    let bars = klines();
    let (k, d) = (14, 3);
    let mut stochastic = Stochastic::new(k, d);
    let mut atr = Atr::new(14);
    let mut got_k = Vec::new();
    let mut got_d = Vec::new();
    let mut got_atr = Vec::new();
    for bar in &bars {
        let value = stochastic.update(bar.high, bar.low, bar.close);
        got_k.push(value.map(|v| v.k));
        got_d.push(value.and_then(|v| v.d));
        got_atr.push(atr.update(bar.high, bar.low, bar.close));
    }
    let want_k: Vec<Option<f64>> = (0..bars.len())
        .map(|i| {
            (i + 1 >= k).then(|| {
                let window = &bars[i + 1 - k..=i];
                let highest = window.iter().map(|b| b.high).fold(f64::MIN, f64::max);
                let lowest = window.iter().map(|b| b.low).fold(f64::MAX, f64::min);
                100.0 * (bars[i].close - lowest) / (highest - lowest)
            })
        })
        .collect();
    let want_d: Vec<Option<f64>> = (0..bars.len())
        .map(|i| (i + 2 >= k + d).then(|| want_k[i + 1 - d..=i].iter().map(|v| v.unwrap()).sum::<f64>() / d as f64))
        .collect();
    let true_range: Vec<f64> = (0..bars.len())
        .map(|i| {
            let b = &bars[i];
            if i == 0 {
                b.high - b.low
            } else {
                let previous = bars[i - 1].close;
                (b.high - b.low).max((b.high - previous).abs()).max((b.low - previous).abs())
            }
        })
        .collect();
    let mut want_atr = vec![None; bars.len()];
    let mut value = true_range[..14].iter().sum::<f64>() / 14.0;
    want_atr[13] = Some(value);
    for i in 14..bars.len() {
        value = (value * 13.0 + true_range[i]) / 14.0;
        want_atr[i] = Some(value);
    }
    check("stoch_k_14", &got_k, &want_k, 1e-9);
    check("stoch_d_14_3", &got_d, &want_d, 1e-9);
    check("atr_14", &got_atr, &want_atr, 1e-9);
}

#[test]
fn bollinger_bands_use_the_population_deviation() {
    let x = closes();
    let (n, k) = (20, 2.0);
    let mut bands = Bollinger::new(n, k);
    let got: Vec<_> = x.iter().map(|v| bands.update(*v)).collect();
    let mut compared = 0;
    for i in 0..x.len() {
        let want = (i + 1 >= n).then(|| {
            let window = &x[i + 1 - n..=i];
            let mean = window.iter().sum::<f64>() / n as f64;
            let sigma = (window.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            (mean, mean + k * sigma, mean - k * sigma, (x[i] - (mean - k * sigma)) / (2.0 * k * sigma))
        });
        match (got[i], want) {
            (Some(g), Some((middle, upper, lower, percent_b))) => {
                assert!(close_to(g.middle, middle, 1e-12) && close_to(g.upper, upper, 1e-11), "bands at {i}");
                assert!(close_to(g.lower, lower, 1e-11), "lower band at {i}");
                assert!((g.percent_b - percent_b).abs() < 1e-7, "%B at {i}: {} vs {percent_b}", g.percent_b);
                compared += 1;
            }
            (None, None) => {}
            _ => panic!("bollinger readiness differs at {i}"),
        }
    }
    assert!(compared > 3_000);
}

#[test]
fn obv_and_vwap() {
    let bars = klines();
    let mut obv = Obv::new();
    let mut vwap = RollingVwap::new(24);
    let mut want_obv = 0.0;
    for (i, bar) in bars.iter().enumerate() {
        let got = obv.update(bar.close, bar.volume);
        if i > 0 {
            let previous = bars[i - 1].close;
            want_obv += if bar.close > previous {
                bar.volume
            } else if bar.close < previous {
                -bar.volume
            } else {
                0.0
            };
        }
        assert!((got - want_obv).abs() < 1e-6, "obv at {i}: {got} vs {want_obv}");
        let got_vwap = vwap.update(bar.quote_volume, bar.volume);
        let want_vwap = (i >= 23).then(|| {
            let window = &bars[i - 23..=i];
            window.iter().map(|b| b.quote_volume).sum::<f64>() / window.iter().map(|b| b.volume).sum::<f64>()
        });
        match (got_vwap, want_vwap) {
            (Some(g), Some(w)) => assert!(close_to(g, w, 1e-11), "vwap at {i}: {g} vs {w}"),
            (None, None) => {}
            _ => panic!("vwap readiness differs at {i}"),
        }
        // A bar's VWAP lies within its range.
        if let Some(w) = want_vwap {
            assert!(w > 0.0);
        }
    }
}
