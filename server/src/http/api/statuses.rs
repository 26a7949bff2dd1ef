//! The error statuses every operation can answer, added to the OpenAPI document in one place so
//! that a generated client expects them: 401 and 403 everywhere (every operation needs a
//! caller, and roles or protection may refuse), 400 where there is input to refuse, 404 where
//! the path names something, 409 and 503 where state changes (a conflict; a cluster or
//! Prometheus that did not answer), 413 where a body is read. Each with the error document.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build(),
    )
}

/// Adds the statuses `operation` can answer and does not list yet.
fn add_statuses(path: &str, operation: &mut Operation, writes: bool) {
    let has_input = operation.request_body.is_some()
        || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let statuses = [
        ("400", has_input, "The input was refused; `field` names it."),
        ("401", true, "No valid session or bearer token."),
        (
            "403",
            true,
            "The caller's role (or the environment's protection) does not allow this.",
        ),
        (
            "404",
            path.contains('{'),
            "What the path names does not exist.",
        ),
        (
            "409",
            writes,
            "It clashes with the current state (a newer version, a deployment in progress…).",
        ),
        (
            "413",
            operation.request_body.is_some(),
            "The body is larger than this operation reads.",
        ),
        (
            "503",
            writes,
            "A cluster or Prometheus did not answer, or the server is busy; retry later.",
        ),
    ];
    let responses = &mut operation.responses.responses;
    for (status, applies, description) in statuses {
        if applies && !responses.contains_key(status) {
            responses.insert(status.to_owned(), error_response(description));
        }
    }
}

/// Completes every operation of `doc`.
pub fn document_errors(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let reads = [item.get.as_mut()];
        let writes = [
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ];
        for operation in reads.into_iter().flatten() {
            add_statuses(path, operation, false);
        }
        for operation in writes.into_iter().flatten() {
            add_statuses(path, operation, true);
        }
    }
}
