//! The sandbox object store's behaviour: identity, conflicts, patches, status and watches.

use super::*;

const NOW: &str = "2026-11-26T12:00:00Z";

fn deployment(name: &str, app: &str, replicas: u32) -> Value {
    json!({"metadata": {"name": name, "labels": {"app": app}}, "spec": {"replicas": replicas}})
}

#[test]
fn created_objects_get_identity_and_are_listed_by_selector() {
    let s = ObjectStore::default();
    let a = s
        .create(
            Kind::Deployment,
            "prod",
            deployment("storefront", "storefront", 3),
            NOW,
        )
        .unwrap();
    s.create(
        Kind::Deployment,
        "prod",
        deployment("checkout", "checkout", 1),
        NOW,
    )
    .unwrap();
    s.create(
        Kind::Deployment,
        "dev",
        deployment("storefront", "storefront", 1),
        NOW,
    )
    .unwrap();
    assert_eq!(a["apiVersion"], "apps/v1");
    assert_eq!(a["metadata"]["namespace"], "prod");
    assert_eq!(a["metadata"]["resourceVersion"], "1");
    let sel = LabelSelector::parse("app=storefront").unwrap();
    let (items, version) = s.list(Kind::Deployment, Some("prod"), &sel);
    assert_eq!(items.len(), 1);
    assert_eq!(version, 3);
    assert_eq!(s.list(Kind::Deployment, None, &sel).0.len(), 2);
    let err = s
        .create(
            Kind::Deployment,
            "prod",
            deployment("checkout", "x", 1),
            NOW,
        )
        .unwrap_err();
    assert_eq!((err.code(), err.reason()), (409, "AlreadyExists"));
}

#[test]
fn a_write_from_a_stale_version_is_a_conflict() {
    let s = ObjectStore::default();
    let v1 = s
        .create(Kind::Deployment, "ns", deployment("d", "d", 1), NOW)
        .unwrap();
    let mut first = v1.clone();
    first["spec"]["replicas"] = json!(2);
    let v2 = s
        .replace(Kind::Deployment, "ns", "d", first, Part::Main)
        .unwrap();
    assert_eq!(v2["metadata"]["generation"], 2);
    let mut late = v1;
    late["spec"]["replicas"] = json!(5);
    let err = s
        .replace(Kind::Deployment, "ns", "d", late, Part::Main)
        .unwrap_err();
    assert_eq!((err.code(), err.reason()), (409, "Conflict"));
    assert_eq!(
        s.get(Kind::Deployment, "ns", "d").unwrap()["spec"]["replicas"],
        2
    );
}

#[test]
fn status_and_spec_are_written_separately() {
    let s = ObjectStore::default();
    s.create(Kind::Deployment, "ns", deployment("d", "d", 3), NOW)
        .unwrap();
    let status = s
        .patch(
            Kind::Deployment,
            "ns",
            "d",
            &json!({"status": {"readyReplicas": 3}, "spec": {"replicas": 9}}),
            Part::Status,
        )
        .unwrap();
    assert_eq!(
        (
            status["status"]["readyReplicas"].clone(),
            status["spec"]["replicas"].clone()
        ),
        (json!(3), json!(3))
    );
    let main = s
        .patch(
            Kind::Deployment,
            "ns",
            "d",
            &json!({"spec": {"replicas": 4}, "status": null}),
            Part::Main,
        )
        .unwrap();
    assert_eq!(
        (
            main["status"]["readyReplicas"].clone(),
            main["spec"]["replicas"].clone()
        ),
        (json!(3), json!(4))
    );
}

#[test]
fn a_body_that_is_not_an_object_is_invalid_not_a_panic() {
    let s = ObjectStore::default();
    let err = s
        .create(Kind::ConfigMap, "ns", json!([1, 2]), NOW)
        .unwrap_err();
    assert_eq!((err.code(), err.reason()), (422, "Invalid"));
    s.create(
        Kind::ConfigMap,
        "ns",
        json!({"metadata": {"name": "c"}, "data": {"k": "v"}}),
        NOW,
    )
    .unwrap();
    let err = s
        .patch(Kind::ConfigMap, "ns", "c", &json!("scalar"), Part::Main)
        .unwrap_err();
    assert_eq!(err.reason(), "Invalid");
    let err = s
        .create(Kind::ConfigMap, "ns", json!({"metadata": {}}), NOW)
        .unwrap_err();
    assert!(
        err.to_string().contains("metadata.name: Required value"),
        "{err}"
    );
}

#[test]
fn merge_patch_follows_rfc_7386() {
    let mut v = json!({"a": {"b": 1, "c": 2}, "d": [1, 2]});
    merge_patch(&mut v, &json!({"a": {"b": null, "e": 3}, "d": [9]}));
    assert_eq!(v, json!({"a": {"c": 2, "e": 3}, "d": [9]}));
}

#[tokio::test]
async fn watchers_see_every_change_in_order() {
    let s = ObjectStore::default();
    let (past, mut rx) = s.watch(None).unwrap();
    assert!(past.is_empty());
    s.create(
        Kind::Pod,
        "ns",
        json!({"metadata": {"generateName": "web-"}}),
        NOW,
    )
    .unwrap();
    let pod = rx.recv().await.unwrap();
    let name = pod.object["metadata"]["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("web-"), "{name}");
    s.patch(
        Kind::Pod,
        "ns",
        &name,
        &json!({"metadata": {"labels": {"ready": "true"}}}),
        Part::Main,
    )
    .unwrap();
    s.delete(Kind::Pod, "ns", &name).unwrap();
    let kinds: Vec<&str> = vec![
        pod.kind_of_change,
        rx.recv().await.unwrap().kind_of_change,
        rx.recv().await.unwrap().kind_of_change,
    ];
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);
    let err = s.get(Kind::Pod, "ns", &name).unwrap_err();
    assert_eq!(
        (err.code(), err.to_string()),
        (404, format!("Pod \"{name}\" not found"))
    );
}

#[test]
fn a_watch_resumes_after_a_resource_version_or_is_told_it_is_too_old() {
    let s = ObjectStore::default();
    let first = s
        .create(
            Kind::ConfigMap,
            "ns",
            json!({"metadata": {"name": "a"}}),
            NOW,
        )
        .unwrap();
    s.create(
        Kind::ConfigMap,
        "ns",
        json!({"metadata": {"name": "b"}}),
        NOW,
    )
    .unwrap();
    let since: u64 = first["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (past, _) = s.watch(Some(since)).unwrap();
    let names: Vec<&str> = past
        .iter()
        .map(|e| e.object["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["b"],
        "only what changed after the version asked for"
    );
    let (all, _) = s.watch(None).unwrap();
    assert_eq!(all.len(), 2, "without a version: every object, as ADDED");

    for i in 0..super::HISTORY + 1 {
        s.patch(
            Kind::ConfigMap,
            "ns",
            "a",
            &json!({"data": {"i": i.to_string()}}),
            Part::Main,
        )
        .unwrap();
    }
    let err = s.watch(Some(since)).unwrap_err();
    assert_eq!((err.code(), err.reason()), (410, "Expired"), "{err}");
}

#[test]
fn a_strategic_merge_joins_containers_by_name() {
    let mut v = json!({"spec": {"containers": [
        {"name": "app", "image": "a:1", "ports": [{"containerPort": 80}]},
        {"name": "sidecar", "image": "s:1"}]}});
    merge(
        &mut v,
        &json!({"spec": {"containers": [{"name": "app", "image": "a:2"},
                                        {"name": "sidecar", "$patch": "delete"}]}}),
        PatchType::Strategic,
    );
    assert_eq!(
        v,
        json!({"spec": {"containers": [{"name": "app", "image": "a:2", "ports": [{"containerPort": 80}]}]}})
    );
}

#[test]
fn a_write_that_changes_nothing_keeps_its_version_and_tells_no_watcher() {
    let s = ObjectStore::default();
    let created = s
        .create(Kind::Deployment, "ns", deployment("d", "d", 2), NOW)
        .unwrap();
    let (_, mut events) = s.watch(None).unwrap();
    let same = s
        .patch(
            Kind::Deployment,
            "ns",
            "d",
            &json!({"spec": {"replicas": 2}}),
            Part::Main,
        )
        .unwrap();
    assert_eq!(
        same["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(s.resource_version(), 1);
    assert!(
        events.try_recv().is_err(),
        "no event for a write that changed nothing"
    );
    let scaled = s
        .patch(
            Kind::Deployment,
            "ns",
            "d",
            &json!({"spec": {"replicas": 3}}),
            Part::Main,
        )
        .unwrap();
    assert_eq!(scaled["metadata"]["resourceVersion"], "2");
    assert_eq!(scaled["metadata"]["generation"], 2);
    assert!(events.try_recv().is_ok(), "a real change is watched");
}
