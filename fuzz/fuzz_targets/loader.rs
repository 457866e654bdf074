//! Fuzzes the fleet-file loader: YAML parsing into spanned nodes, typed
//! decoding of every file kind, and reading settings with operators.
//! Any input must give a value or located errors, never a panic.

#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use dbfleet_config::layer::{LayerId, LayerKind, read_layer_body, read_scoped};
use dbfleet_config::spec::{FleetSpec, InstanceSpec, TenantSpec};
use dbfleet_model::Diagnostics;
use dbfleet_model::decode::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let node = match dbfleet_model::yaml::parse("fuzz.yaml", text) {
        Ok(node) => node,
        Err(errors) => {
            assert!(!errors.is_empty());
            return;
        }
    };
    let _ = decode::<FleetSpec>(&node);
    let _ = decode::<TenantSpec>(&node);
    let _ = decode::<BTreeMap<String, InstanceSpec>>(&node);
    let layer = Arc::new(LayerId { kind: LayerKind::Environment, name: "fuzz".into() });
    let mut diags = Diagnostics::default();
    let _ = read_layer_body(&node, &layer, &mut diags);
    let _ = read_scoped(&node, &layer, &mut diags);
    for d in diags.iter() {
        assert!(d.location.is_some(), "every loader diagnostic has a location: {d}");
    }
});
