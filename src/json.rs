//! Reading JSON as people write it: a whole number written as a float (`3.0`) is the integer
//! it equals, as JSON Schema's `integer` says.

/// `value` with every float that is an integer within `i64` written as one. (Above 2⁵³ the
/// number was already rounded when the JSON was read, as JavaScript rounds it.)
pub fn integral_numbers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    // 2⁶³: the first float past i64::MAX.
    const BEYOND_I64: f64 = 9_223_372_036_854_775_808.0;
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && (-BEYOND_I64..BEYOND_I64).contains(&f) => {
                // Exact: an integral float inside i64's range converts without loss.
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(integral_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, integral_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::integral_numbers;
    use serde_json::json;

    #[test]
    fn integral_floats_become_integers_and_others_stay() {
        let read =
            integral_numbers(json!({"version": 3.0, "rate": 2.5, "list": [1e3, -0.0, 1e300]}));
        assert_eq!(
            read,
            json!({"version": 3, "rate": 2.5, "list": [1000, 0, 1e300]})
        );
        assert!(read["version"].is_i64());
        let big = integral_numbers(json!({"id": 4_503_599_627_370_496.0_f64}));
        assert_eq!(big["id"], 4_503_599_627_370_496_i64);
    }
}
