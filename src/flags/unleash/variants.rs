//! An Unleash feature's variants as a flag's: every name once, and each split serving the
//! payload its list gives a variant.

use super::*;
use crate::flags::model::Payload;

/// The flag's variants: `disabled`, then every name the feature and its strategies use, in
/// order. A name whose payloads differ from list to list has none of its own; each split
/// carries its payload then (see [`split_of`]).
pub(super) fn variants_of<'f>(lists: impl Iterator<Item = &'f [UnleashVariant]>) -> Vec<Variant> {
    let mut all = vec![Variant {
        name: DISABLED_VARIANT.to_owned(),
        value: Value::Bool(false),
        payload: None,
    }];
    let mut index = HashMap::from([(DISABLED_VARIANT.to_owned(), (0, true))]);
    for v in lists.flatten() {
        match index.get_mut(&v.name) {
            Some((i, agreed)) => *agreed &= all[*i].payload == v.payload,
            None => {
                index.insert(v.name.clone(), (all.len(), true));
                all.push(Variant {
                    name: v.name.clone(),
                    value: Value::Bool(true),
                    payload: v.payload.clone(),
                });
            }
        }
    }
    for (i, agreed) in index.into_values() {
        if !agreed {
            all[i].payload = None;
        }
    }
    all
}

/// The payload of each of a flag's variants, by name.
pub(super) type Payloads<'v> = HashMap<&'v str, &'v Option<Payload>>;

/// The payloads of `variants`, by name.
pub(super) fn payloads(variants: &[Variant]) -> Payloads<'_> {
    variants
        .iter()
        .map(|v| (v.name.as_str(), &v.payload))
        .collect()
}

/// Unleash's variants as a weighted split bucketed in `group` by `stickiness`, each carrying
/// its payload when the flag's variant of that name has another. Unleash reads the overrides
/// of a feature's variants only, never a strategy's.
pub(super) fn split_of(
    list: &[UnleashVariant],
    payloads: &Payloads<'_>,
    group: String,
    stickiness: String,
    with_overrides: bool,
) -> Split {
    let own_payload = |name: &str| payloads.get(name).copied();
    Split {
        variants: list
            .iter()
            .map(|v| WeightedVariant {
                variant: v.name.clone(),
                weight: u32::try_from(v.weight).unwrap_or(0),
                payload: (own_payload(&v.name) != Some(&v.payload))
                    .then(|| v.payload.clone())
                    .flatten(),
            })
            .collect(),
        stickiness,
        group_id: Some(group),
        overrides: list
            .iter()
            .filter(|_| with_overrides)
            .flat_map(|v| {
                v.overrides.iter().map(|o| Override {
                    variant: v.name.clone(),
                    context_name: o.context_name.clone(),
                    values: o.values.iter().filter_map(text).collect(),
                })
            })
            .collect(),
    }
}
