//! The VARAi Rollout dashboard: Leptos components rendered on the server and hydrated in the
//! browser, and the `#[server]` functions they call.

#![recursion_limit = "512"]

pub mod charts;
pub mod components;
pub mod editors;
pub mod me;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
pub mod shell;

pub use shell::{App, shell};

/// Entry point of the WASM bundle: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
