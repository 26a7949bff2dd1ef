//! The names Kubernetes and image registries accept, checked before anything reaches a cluster.

use crate::InvalidInput;

/// A DNS-1123 label: what Deployments, Services and containers may be called.
pub fn check_object_name(field: &str, name: &str) -> Result<(), InvalidInput> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!(
                "'{name}' is not a valid name: use 1–63 lowercase letters, digits and '-', starting and ending with a letter or digit"
            ),
        ))
    }
}

/// An image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn check_version(field: &str, tag: &str) -> Result<(), InvalidInput> {
    let mut chars = tag.chars();
    let ok = tag.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!(
                "'{tag}' is not a valid image tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"
            ),
        ))
    }
}

/// An image repository without a tag: `host[:port]/path`, lowercase path components.
pub fn check_image(field: &str, image: &str) -> Result<(), InvalidInput> {
    let path_ok = |p: &str| {
        !p.is_empty()
            && p.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
    };
    let mut parts = image.split('/').collect::<Vec<_>>();
    // A first part with a dot or a port is a registry host.
    if parts.len() > 1 && (parts[0].contains('.') || parts[0].contains(':')) {
        parts.remove(0);
    }
    if image.len() <= 255 && !parts.is_empty() && parts.iter().all(|p| path_ok(p)) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!(
                "'{image}' is not an image repository such as registry.example.com/team/app (no tag; lowercase)"
            ),
        ))
    }
}

/// A Kubernetes resource quantity as a form asks for one: a decimal number with an optional
/// unit (`m`, `k`, `M`, `G`, `T`, `Ki`, `Mi`, `Gi`, `Ti`), at most 20 characters; `100m`,
/// `0.5`, `128Mi`.
pub fn check_quantity(field: &str, quantity: &str) -> Result<(), InvalidInput> {
    let number_end = quantity
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(quantity.len());
    let (number, unit) = quantity.split_at(number_end);
    let number_ok = !number.is_empty()
        && !number.starts_with('.')
        && !number.ends_with('.')
        && number.matches('.').count() <= 1;
    let unit_ok = matches!(
        unit,
        "" | "m" | "k" | "M" | "G" | "T" | "Ki" | "Mi" | "Gi" | "Ti"
    );
    if quantity.len() <= 20 && number_ok && unit_ok {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!("'{quantity}' is not a quantity such as 100m, 0.5, 128Mi or 1Gi"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_names_tags_and_images() {
        assert!(check_object_name("name", "storefront-v2").is_ok());
        for bad in ["", "Storefront", "-a", "a-", "a_b", &"a".repeat(64)] {
            assert_eq!(check_object_name("name", bad).unwrap_err().field, "name");
        }
        assert!(check_version("version", "v1.2.3-rc_1").is_ok());
        for bad in ["", ".v1", "-v1", "v 1", "v1:2", &"v".repeat(129)] {
            assert!(check_version("version", bad).is_err(), "{bad}");
        }
        assert!(check_image("image", "registry.sandbox.local/storefront").is_ok());
        assert!(check_image("image", "localhost:5000/team/app").is_ok());
        assert!(check_image("image", "nginx").is_ok());
        for bad in ["", "Team/App", "app:1.0", "a//b"] {
            assert!(check_image("image", bad).is_err(), "{bad}");
        }
        for good in ["100m", "0.5", "2", "128Mi", "1Gi"] {
            assert!(check_quantity("cpu", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "m",
            ".5",
            "5.",
            "1.2.3",
            "10 Mi",
            "1Xi",
            "-1",
            &"1".repeat(21),
        ] {
            assert!(check_quantity("cpu", bad).is_err(), "{bad}");
        }
    }
}
