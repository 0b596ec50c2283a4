//! The protocols' configs as another front end (Python, a JSON file) hands them over: each
//! survives a JSON round trip, and the ones with `#[serde(default)]` fill what a file leaves out
//! from their `Default` (the command line's defaults), so `{}` is the CLI's run.

use hopfield_train::experiments::capacity::CapacityConfig;
use hopfield_train::experiments::graph_cv::GraphCvConfig;
use hopfield_train::experiments::mil::MilComparisonConfig;
use hopfield_train::experiments::node_anomaly::NodeAnomalyConfig;
use hopfield_train::experiments::recall::RecallConfig;
use hopfield_train::tasks::dam_classifier::DamTrainConfig;
use hopfield_train::tasks::masked_image::EtTrainConfig;

fn round_trip<C: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(c: &C) {
    let json = serde_json::to_string(c).unwrap();
    assert_eq!(&serde_json::from_str::<C>(&json).unwrap(), c, "{json}");
}

fn from_empty<C: serde::de::DeserializeOwned + Default + PartialEq + std::fmt::Debug>() {
    assert_eq!(serde_json::from_str::<C>("{}").unwrap(), C::default());
}

#[test]
fn configs_round_trip_and_fill_gaps_from_their_defaults() {
    round_trip(&GraphCvConfig::default());
    round_trip(&NodeAnomalyConfig::default());
    round_trip(&MilComparisonConfig::default());
    round_trip(&RecallConfig::default());
    round_trip(&CapacityConfig::default());
    round_trip(&EtTrainConfig::default());
    round_trip(&DamTrainConfig::default());
    from_empty::<GraphCvConfig>();
    from_empty::<NodeAnomalyConfig>();
    from_empty::<MilComparisonConfig>();
    from_empty::<RecallConfig>();
    from_empty::<CapacityConfig>();
    // A partial file: the rest from the defaults, and what it gives is what a run validates.
    let c: GraphCvConfig = serde_json::from_str(r#"{"validation": 0.7, "max_folds": 2}"#).unwrap();
    assert_eq!((c.max_folds, c.degree_cap), (Some(2), 32));
    assert!(c.validate().unwrap_err().to_string().contains("invalid validation = 0.7"));
}
