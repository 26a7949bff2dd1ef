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
    }
}
