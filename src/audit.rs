//! What the audit log records: a fixed vocabulary of actions, so the log can be filtered and
//! read by machines as well as people.

use serde::{Deserialize, Serialize};

/// One kind of change that is written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    #[serde(rename = "user.create")]
    UserCreate,
    #[serde(rename = "user.change_role")]
    UserChangeRole,
    #[serde(rename = "user.disable")]
    UserDisable,
    #[serde(rename = "user.enable")]
    UserEnable,
    #[serde(rename = "user.change_password")]
    UserChangePassword,
    #[serde(rename = "token.create")]
    TokenCreate,
    #[serde(rename = "token.revoke")]
    TokenRevoke,
    #[serde(rename = "session.login")]
    SessionLogin,
    #[serde(rename = "session.login_failed")]
    SessionLoginFailed,
    #[serde(rename = "session.logout")]
    SessionLogout,
    #[serde(rename = "environment.create")]
    EnvironmentCreate,
    #[serde(rename = "environment.rename")]
    EnvironmentRename,
    #[serde(rename = "environment.delete")]
    EnvironmentDelete,
    #[serde(rename = "segment.create")]
    SegmentCreate,
    #[serde(rename = "segment.update")]
    SegmentUpdate,
    #[serde(rename = "segment.delete")]
    SegmentDelete,
    #[serde(rename = "flag.create")]
    FlagCreate,
    #[serde(rename = "flag.update")]
    FlagUpdate,
    #[serde(rename = "flag.toggle")]
    FlagToggle,
    #[serde(rename = "flag.archive")]
    FlagArchive,
    #[serde(rename = "flag.restore")]
    FlagRestore,
    #[serde(rename = "flag.import")]
    FlagImport,
    #[serde(rename = "sdk_key.create")]
    SdkKeyCreate,
    #[serde(rename = "sdk_key.revoke")]
    SdkKeyRevoke,
    #[serde(rename = "app.register")]
    AppRegister,
    #[serde(rename = "deployment.start")]
    DeploymentStart,
    #[serde(rename = "deployment.promote")]
    DeploymentPromote,
    #[serde(rename = "deployment.pause")]
    DeploymentPause,
    #[serde(rename = "deployment.resume")]
    DeploymentResume,
    #[serde(rename = "deployment.abort")]
    DeploymentAbort,
    #[serde(rename = "deployment.rollback")]
    DeploymentRollback,
    #[serde(rename = "sandbox.update")]
    SandboxUpdate,
    #[serde(rename = "environment.bind_cluster")]
    EnvironmentBindCluster,
    #[serde(rename = "analysis_template.save")]
    AnalysisTemplateSave,
    #[serde(rename = "analysis_template.delete")]
    AnalysisTemplateDelete,
    #[serde(rename = "alert_rule.save")]
    AlertRuleSave,
    #[serde(rename = "alert_rule.delete")]
    AlertRuleDelete,
    #[serde(rename = "alert.receive")]
    AlertReceive,
    #[serde(rename = "saved_query.save")]
    SavedQuerySave,
    #[serde(rename = "saved_query.delete")]
    SavedQueryDelete,
    #[serde(rename = "environment.set_prometheus")]
    EnvironmentSetPrometheus,
    #[serde(rename = "plan_template.save")]
    PlanTemplateSave,
    #[serde(rename = "plan_template.delete")]
    PlanTemplateDelete,
    #[serde(rename = "rollout.create")]
    RolloutCreate,
    #[serde(rename = "rollout.update")]
    RolloutUpdate,
    #[serde(rename = "rollout.delete")]
    RolloutDelete,
    #[serde(rename = "rollout.start")]
    RolloutStart,
    #[serde(rename = "rollout.approve")]
    RolloutApprove,
    #[serde(rename = "rollout.advance")]
    RolloutAdvance,
    #[serde(rename = "rollout.pause")]
    RolloutPause,
    #[serde(rename = "rollout.resume")]
    RolloutResume,
    #[serde(rename = "rollout.skip")]
    RolloutSkip,
    #[serde(rename = "rollout.abort")]
    RolloutAbort,
    #[serde(rename = "rollout.rollback")]
    RolloutRollback,
    #[serde(rename = "environment.protect")]
    EnvironmentProtect,
    #[serde(rename = "change_request.create")]
    ChangeRequestCreate,
    #[serde(rename = "change_request.approve")]
    ChangeRequestApprove,
    #[serde(rename = "change_request.reject")]
    ChangeRequestReject,
    #[serde(rename = "change_request.withdraw")]
    ChangeRequestWithdraw,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserCreate => "user.create",
            AuditAction::UserChangeRole => "user.change_role",
            AuditAction::UserDisable => "user.disable",
            AuditAction::UserEnable => "user.enable",
            AuditAction::UserChangePassword => "user.change_password",
            AuditAction::TokenCreate => "token.create",
            AuditAction::TokenRevoke => "token.revoke",
            AuditAction::SessionLogin => "session.login",
            AuditAction::SessionLoginFailed => "session.login_failed",
            AuditAction::SessionLogout => "session.logout",
            AuditAction::EnvironmentCreate => "environment.create",
            AuditAction::EnvironmentRename => "environment.rename",
            AuditAction::EnvironmentDelete => "environment.delete",
            AuditAction::SegmentCreate => "segment.create",
            AuditAction::SegmentUpdate => "segment.update",
            AuditAction::SegmentDelete => "segment.delete",
            AuditAction::FlagCreate => "flag.create",
            AuditAction::FlagUpdate => "flag.update",
            AuditAction::FlagToggle => "flag.toggle",
            AuditAction::FlagArchive => "flag.archive",
            AuditAction::FlagRestore => "flag.restore",
            AuditAction::FlagImport => "flag.import",
            AuditAction::SdkKeyCreate => "sdk_key.create",
            AuditAction::SdkKeyRevoke => "sdk_key.revoke",
            AuditAction::AppRegister => "app.register",
            AuditAction::DeploymentStart => "deployment.start",
            AuditAction::DeploymentPromote => "deployment.promote",
            AuditAction::DeploymentPause => "deployment.pause",
            AuditAction::DeploymentResume => "deployment.resume",
            AuditAction::DeploymentAbort => "deployment.abort",
            AuditAction::DeploymentRollback => "deployment.rollback",
            AuditAction::SandboxUpdate => "sandbox.update",
            AuditAction::EnvironmentBindCluster => "environment.bind_cluster",
            AuditAction::AnalysisTemplateSave => "analysis_template.save",
            AuditAction::AnalysisTemplateDelete => "analysis_template.delete",
            AuditAction::AlertRuleSave => "alert_rule.save",
            AuditAction::AlertRuleDelete => "alert_rule.delete",
            AuditAction::AlertReceive => "alert.receive",
            AuditAction::SavedQuerySave => "saved_query.save",
            AuditAction::SavedQueryDelete => "saved_query.delete",
            AuditAction::EnvironmentSetPrometheus => "environment.set_prometheus",
            AuditAction::PlanTemplateSave => "plan_template.save",
            AuditAction::PlanTemplateDelete => "plan_template.delete",
            AuditAction::RolloutCreate => "rollout.create",
            AuditAction::RolloutUpdate => "rollout.update",
            AuditAction::RolloutDelete => "rollout.delete",
            AuditAction::RolloutStart => "rollout.start",
            AuditAction::RolloutApprove => "rollout.approve",
            AuditAction::RolloutAdvance => "rollout.advance",
            AuditAction::RolloutPause => "rollout.pause",
            AuditAction::RolloutResume => "rollout.resume",
            AuditAction::RolloutSkip => "rollout.skip",
            AuditAction::RolloutAbort => "rollout.abort",
            AuditAction::RolloutRollback => "rollout.rollback",
            AuditAction::EnvironmentProtect => "environment.protect",
            AuditAction::ChangeRequestCreate => "change_request.create",
            AuditAction::ChangeRequestApprove => "change_request.approve",
            AuditAction::ChangeRequestReject => "change_request.reject",
            AuditAction::ChangeRequestWithdraw => "change_request.withdraw",
        }
    }
}
