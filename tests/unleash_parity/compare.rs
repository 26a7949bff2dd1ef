//! One document in both engines, and their answers side by side.

use crate::caller::Caller;
use serde_json::Value;
use unleash_yggdrasil::{ClientFeatures, EngineState, UpdateMessage};
use varai_domain::flags::{Context, FlagSet, unleash::read_document};

/// What an application learns about one toggle for one caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub enabled: bool,
    pub variant: String,
    /// `type:value`.
    pub payload: Option<String>,
}

pub struct Engines {
    ours: FlagSet,
    theirs: EngineState,
    toggles: Vec<String>,
}

impl Engines {
    /// Imports `doc` into our flag set and loads it into Unleash's engine.
    pub fn load(doc: &Value) -> Result<Engines, String> {
        let text = doc.to_string();
        let import = read_document(&text).map_err(|e| format!("our import refused it: {e:?}"))?;
        let toggles = import
            .flags
            .iter()
            .map(|(spec, _)| spec.key.clone())
            .collect();
        let ours = FlagSet::build(import.flags, &import.segments);
        let features: ClientFeatures = serde_json::from_str(&text)
            .map_err(|e| format!("Unleash's engine cannot read it: {e}"))?;
        let theirs = EngineState::default();
        // Warnings name toggles Unleash's engine cannot compile; it keeps them off.
        let _ = theirs.take_state(UpdateMessage::FullResponse(features));
        Ok(Engines {
            ours,
            theirs,
            toggles,
        })
    }

    pub fn toggles(&self) -> &[String] {
        &self.toggles
    }

    pub fn ours(&self, toggle: &str, caller: &Caller) -> Answer {
        let attributes = caller.ofrep();
        let ctx = Context::new(&attributes, 0, 0);
        match self.ours.evaluate(toggle, &ctx) {
            Some(e) => Answer {
                enabled: e.value == &Value::Bool(true),
                variant: e.variant.to_owned(),
                payload: e.payload.map(|p| format!("{}:{}", p.kind, p.value)),
            },
            None => Answer {
                enabled: false,
                variant: "(no such flag)".into(),
                payload: None,
            },
        }
    }

    pub fn theirs(&self, toggle: &str, caller: &Caller) -> Answer {
        let ctx = caller.unleash();
        let variant = self.theirs.get_variant(toggle, &ctx, &None);
        Answer {
            enabled: self.theirs.is_enabled(toggle, &ctx, &None),
            variant: variant.name,
            payload: variant
                .payload
                .map(|p| format!("{}:{}", p.payload_type, p.value)),
        }
    }

    /// The answer both engines give, or how they differ.
    pub fn agreed(&self, toggle: &str, caller: &Caller) -> Result<Answer, String> {
        let (ours, theirs) = (self.ours(toggle, caller), self.theirs(toggle, caller));
        if ours == theirs {
            Ok(ours)
        } else {
            Err(format!(
                "toggle {toggle}: ours {ours:?}, Unleash's {theirs:?}"
            ))
        }
    }
}
