//! When a controller should look at an object again, as a decision says: a controller that
//! knows this looks when something can have changed instead of on every tick.

/// When to look again at an object that is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recheck {
    /// It waits for the cluster to converge (pods starting, a Service switching): soon.
    #[default]
    Soon,
    /// It waits for a time (ms since the epoch): a pause, a bake, a delay ending.
    At(i64),
    /// Only an event moves it: a person's command, a gate's or an analysis' verdict.
    OnEvent,
}
