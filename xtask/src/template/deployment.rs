//! How a new version of a function reaches users: every deploy publishes a
//! version under the alias [`ALIAS`], which API Gateway and the stream's
//! event source mappings invoke, and CodeDeploy moves the alias to it, in
//! steps in prod (`DeploymentPreference` in the Globals of head.yaml, and
//! on each function). Each function's rollback alarm watches only what the
//! new version does; if it fires before the shift completes, CodeDeploy
//! points the alias back at the old version.

use conduit_common::http::Route;
use conduit_common::telemetry::metrics::{NAMESPACE, name};

use super::monitoring::{ROUTE, SERVICE, alarm, alarm_metric, math};

/// The alias every caller invokes (head.yaml's `AutoPublishAlias`).
pub const ALIAS: &str = "live";

/// The rollback alarm of the function `name` serving `routes` (none for a
/// stream consumer or a job): any minute in which the new version crashed
/// or timed out, or (for a route) answered a 500 or had its p99 duration
/// above `DurationP99ThresholdMs`. The 500s are the functions' own
/// `Faults`, which carry no version: during a shift they count the old
/// version's too, and a deploy while the old one fails is rolled back, the
/// safe side.
pub(super) fn rollback_alarm(id: &str, name: &str, routes: &[&Route]) -> String {
    // Lambda's metric of the version being deployed, and only that version:
    // the dimensions Lambda gives invocations through an alias.
    let function = format!("!Ref {id}Function");
    let alias = format!("!Sub \"${{{id}Function}}:{ALIAS}\"");
    let version = format!("!GetAtt {id}Function.Version.Version");
    let new_version = [
        ("FunctionName", function.as_str()),
        ("Resource", &alias),
        ("ExecutedVersion", &version),
    ];
    let mut metrics = alarm_metric("crashes", ["AWS/Lambda", "Errors"], &new_version, 60, "Sum");
    let mut bad = vec!["FILL(crashes, 0) > 0".to_owned()];
    if !routes.is_empty() {
        metrics += &alarm_metric("p99", ["AWS/Lambda", "Duration"], &new_version, 60, "p99");
        bad.push("FILL(p99, 0) > ${DurationP99ThresholdMs}".to_owned());
    }
    for (n, route) in routes.iter().enumerate() {
        let dimensions = [(SERVICE, "!Ref AWS::StackName"), (ROUTE, route.name)];
        let fault_id = format!("faults{n}");
        metrics += &alarm_metric(&fault_id, [NAMESPACE, name::FAULTS], &dimensions, 60, "Sum");
        bad.push(format!("FILL({fault_id}, 0) > 0"));
    }
    let bad = math(
        &metrics,
        "bad",
        "The new version failed (1) or not (0)",
        &format!("!Sub \"IF({}, 1, 0)\"", bad.join(" OR ")),
    );
    let description = format!(
        "${{AWS::StackName}} {name}: the version being deployed fails; CodeDeploy rolls it back"
    );
    // It gates this function's deploys (its DeploymentPreference): no one is paged.
    let comment = "  # Gates this function's deploys (its DeploymentPreference): not an alarm\n  # anyone is paged for, so it has no actions.\n";
    format!(
        "\n{comment}{}",
        alarm(
            &format!("{id}RollbackAlarm"),
            &description,
            &bad,
            (1, None),
            "0",
            false
        )
    )
}
