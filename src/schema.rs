//! Schemas for the OpenAPI document where a field's own type cannot carry its rule: lists whose
//! items each have a rule (feature `openapi`, the server's build).

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};

/// Text that is not blank: at least one character that is not white space.
pub const NOT_BLANK: &str = "[^\\s\\x85]";

fn text(max_length: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max_length))
        .pattern(Some(NOT_BLANK))
}

/// A flag's tags: at most 20, each 1 to 40 characters and not blank.
pub fn tags() -> impl Into<RefOr<Schema>> {
    ArrayBuilder::new().items(text(40)).max_items(Some(20))
}

/// A list of texts, none blank.
fn not_blank_list() -> ArrayBuilder {
    ArrayBuilder::new().items(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(NOT_BLANK)),
    )
}

/// A segment's included or excluded user ids: at most 10,000, none blank.
pub fn user_ids() -> impl Into<RefOr<Schema>> {
    not_blank_list().max_items(Some(10_000))
}

/// One canary step: `setWeight` (0–100 %), `pause` or `analysis`, each alone in its object.
impl utoipa::PartialSchema for crate::deploy::CanaryStep {
    fn schema() -> RefOr<Schema> {
        let weight = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(100));
        let analysis = ObjectBuilder::new()
            .property("templates", template_names())
            .required("templates");
        one_key_of(vec![
            ("setWeight", weight.into()),
            (
                "pause",
                <crate::deploy::canary::Pause as utoipa::PartialSchema>::schema(),
            ),
            ("analysis", analysis.into()),
        ])
    }
}

impl utoipa::ToSchema for crate::deploy::CanaryStep {}

/// A replica count (`2`) or a share of the desired replicas (`"25%"`), as Kubernetes writes
/// maxSurge and maxUnavailable.
impl utoipa::PartialSchema for crate::deploy::IntOrPercent {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::OneOfBuilder;
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(u32::MAX)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^(100|[1-9]?[0-9])%$")),
            )
            .into()
    }
}

impl utoipa::ToSchema for crate::deploy::IntOrPercent {}

/// A condition on a measured value, as written and as stored: `result < 0.5`.
impl utoipa::PartialSchema for crate::analysis::Condition {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(
                "^ *(result)? *(<=|>=|==|!=|<|>) *-?[0-9]{1,300}(\\.[0-9]{1,300})? *$",
            ))
            .examples(["result < 0.5"])
            .into()
    }
}

impl utoipa::ToSchema for crate::analysis::Condition {}

/// A role that may approve or be required: any but viewer.
pub struct ApproverRole;

impl utoipa::PartialSchema for ApproverRole {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["developer", "product-manager", "operator", "admin"]))
            .into()
    }
}

impl utoipa::ToSchema for ApproverRole {}

/// Names of things stored elsewhere (segments, flags, analysis templates): none blank.
pub fn names() -> impl Into<RefOr<Schema>> {
    not_blank_list()
}

/// An integration test's command: one or more words of at most 2,000 characters.
pub fn command() -> impl Into<RefOr<Schema>> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(2_000)),
        )
        .min_items(Some(1))
}

/// Analysis templates a gate runs: at least one, none blank.
pub fn template_names() -> impl Into<RefOr<Schema>> {
    not_blank_list().min_items(Some(1))
}

/// One of `alternatives`, each an object with its single key: serde reads an externally tagged
/// enum only from an object with one key, so no other key is admitted.
fn one_key_of(alternatives: Vec<(&str, RefOr<Schema>)>) -> RefOr<Schema> {
    use utoipa::openapi::schema::{AdditionalProperties, OneOfBuilder};
    alternatives
        .into_iter()
        .fold(OneOfBuilder::new(), |one_of, (key, value)| {
            one_of.item(
                ObjectBuilder::new()
                    .property(key, value)
                    .required(key)
                    .additional_properties(Some(AdditionalProperties::FreeForm(false))),
            )
        })
        .into()
}

/// What a rule serves: exactly one of `variant` or `split`.
impl utoipa::PartialSchema for crate::flags::Serve {
    fn schema() -> RefOr<Schema> {
        one_key_of(vec![
            (
                "variant",
                ObjectBuilder::new().schema_type(Type::String).into(),
            ),
            (
                "split",
                <crate::flags::Split as utoipa::PartialSchema>::schema(),
            ),
        ])
    }
}

impl utoipa::ToSchema for crate::flags::Serve {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        // The split is inlined above; what it refers to must still be in the document.
        <crate::flags::Split as utoipa::ToSchema>::schemas(schemas);
    }
}

/// A key or variant name as an import may bring it: 1 to 400 characters, no control characters.
pub struct ImportedName;

impl utoipa::PartialSchema for ImportedName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(400))
            .pattern(Some("^[^\\x00-\\x1f\\x7f-\\x9f]+$"))
            .into()
    }
}

impl utoipa::ToSchema for ImportedName {}

/// The segments an Unleash strategy names, by id (a list, or `null` for none).
pub fn unleash_segment_ids() -> impl Into<RefOr<Schema>> {
    ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Array,
            Type::Null,
        ]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(2_147_483_647)),
        )
}
