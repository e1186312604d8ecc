//! `docs/operations.md`, the runbooks: for every alarm of the template,
//! what it means, where to look first (a dashboard graph and a Logs
//! Insights query) and what to do; then the procedures they point to. The
//! scheduled jobs' entries come from their declarations
//! (`functions/src/jobs.rs`). A test fails while an alarm of the template
//! has no entry, or an entry names a graph the dashboard does not have.

use std::fmt::Write;

use conduit_common::events::Job;

use crate::template::logical_id;

/// One alarm, or a family of them (one per function).
pub struct Runbook<'a> {
    /// The alarm's logical id, or `*Suffix` for `<Function>Suffix`.
    pub alarms: &'a str,
    pub means: &'a str,
    /// The dashboard graph to open first (its title).
    pub graph: &'a str,
    /// Logs Insights, over the log groups named.
    pub logs: &'a str,
    pub query: &'a str,
    pub action: &'a str,
}

const FUNCTION_LOGS: &str =
    "every `/aws/lambda/<stack>/*` log group (select them all: `/aws/lambda/<stack>/`)";

pub const RUNBOOKS: &[Runbook<'static>] = &[
    Runbook {
        alarms: "ServiceErrorRateAlarm",
        means: "More than `ErrorRatePercentThreshold`% of the requests the functions answered \
                failed on the server's side in 2 of 3 five-minute periods: 5xx answers and \
                GraphQL responses with a failed field, as the functions count them \
                (`Status5xx` over `Requests`).",
        graph: "5xx by cause",
        logs: FUNCTION_LOGS,
        query: "fields @timestamp, fields.route, fields.error, span.request_id\n\
                | filter fields.message in [\"request failed\", \"graphql field failed\"]\n\
                | stats count() as failures by fields.route, fields.error\n\
                | sort failures desc",
        action: "Faults (500s) are bugs: if they began with a deploy, roll back (\"Rolling \
                 back by hand\") and fix. Dependency failures (503s, with `Retry-After`) are \
                 DynamoDB down, slow or throttling: check `TableThrottleAlarm` and the AWS \
                 Health Dashboard; clients retry, and the API recovers by itself when DynamoDB \
                 does, so there is nothing to roll back.",
    },
    Runbook {
        alarms: "ApiServerErrorRateAlarm",
        means: "More than `ErrorRatePercentThreshold`% of the requests API Gateway received \
                answered 5xx: unlike `ServiceErrorRateAlarm`, this counts the requests no \
                function answered (crashes, timeouts, Lambda throttling).",
        graph: "Lambda errors: crashes and timeouts",
        logs: "`/aws/http-api/<stack>/access` (API Gateway's access log)",
        query: "fields @timestamp, routeKey, status, integrationError\n\
                | filter status >= 500\n\
                | stats count() as answers by routeKey, status, integrationError\n\
                | sort answers desc",
        action: "If `ServiceErrorRateAlarm` fires too, follow it. Otherwise the failures \
                 happened outside our code: `Lambda throttles` (the account's concurrency: \
                 ask for more, or lower the stage's `ThrottleRateLimit`), timeouts (the \
                 function's `DurationAlarm`), crashes (its log: `filter @message like \
                 /panicked|Task timed out|Runtime exited/`).",
    },
    Runbook {
        alarms: "ApiClientErrorRateAlarm",
        means: "More than 25% of the requests answered 4xx in 2 of 3 five-minute periods \
                (at least 50 requests each). API Gateway's stage throttling (429) counts here.",
        graph: "4xx answers",
        logs: "`/aws/http-api/<stack>/access` (API Gateway's access log)",
        query: "fields @timestamp, routeKey, status, ip\n\
                | filter status >= 400\n\
                | stats count() as answers by routeKey, status\n\
                | sort answers desc",
        action: "401s on every route: tokens refused; was a signing key retired early (the \
                 `rotate_signing_keys` job's log; `conduit-admin rotate-keys --force`)? 422s \
                 on one route: a client release sends what the API refuses. 429s: the stage's \
                 limits (`ThrottleRateLimit`, `ThrottleBurstLimit`), or one address (the \
                 query's `ip`): the web ACL's rate rules stop such traffic at the edge in \
                 prod; see its sampled requests.",
    },
    Runbook {
        alarms: "TableThrottleAlarm",
        means: "DynamoDB throttled requests to the table or an index for 3 minutes in a row. \
                The table is on demand, so this is a partition past its own limits (a hot \
                key) or the account's table limits, not a capacity setting.",
        graph: "DynamoDB throttled requests",
        logs: FUNCTION_LOGS,
        query: "fields @timestamp, fields.route, fields.error\n\
                | filter fields.message = \"request failed\" and fields.error like /hrottl/\n\
                | stats count() as throttled by fields.route",
        action: "The graph says which index; the query which routes. A bulk job running \
                 (`repair_counters`: lower `REPAIR_READ_UNITS_PER_SECOND`; a migration after \
                 a deploy) can be stopped and resumed later. Otherwise enable CloudWatch \
                 Contributor Insights on the table to find the hot key. Clients meanwhile get \
                 503 with `Retry-After`.",
    },
    Runbook {
        alarms: "StreamFailuresAlarm",
        means: "A stream consumer gave up on a batch (after its retries, or the records grew \
                older than six hours): its shard and sequence numbers are in \
                `StreamFailuresQueue`. What the batch would have done (feed entries, a \
                deleted article's or account's clean-up) is not done.",
        graph: "Alarms",
        logs: "the consumers' log groups (`/aws/lambda/<stack>/fan_out_feeds`, \
               `clean_up_articles`, `clean_up_users`)",
        query: "fields @timestamp, @message\n\
                | filter level = \"ERROR\"\n\
                | sort @timestamp desc\n\
                | limit 50",
        action: "Fix the cause first (the log). Then follow \"Replaying a stream batch\" for \
                 each message, and \"Draining the failure queue\". Counters a lost batch left \
                 wrong are fixed by the daily `repair_counters` job, or at once by `conduit-admin \
                 repair`.",
    },
    Runbook {
        alarms: "*DurationAlarm",
        means: "The function's p99 duration stayed above `DurationP99ThresholdMs` (3 s by \
                default; the timeout is 10 s).",
        graph: "Lambda duration p99 (ms): the DurationAlarms",
        logs: "the function's log group, `/aws/lambda/<stack>/<function>`",
        query: "filter fields.message = \"request\"\n\
                | stats pct(fields.latency_ms, 99) as p99, avg(fields.db_calls) as calls, \
                avg(fields.db_sequential) as sequential, avg(fields.cpu_us) as cpu_us \
                by bin(5m)",
        action: "More calls in sequence than docs/data-model.md says: a change added round \
                 trips; roll back. The same calls, slower: DynamoDB's latency (its \
                 `SuccessfulRequestLatency`), nothing of ours to change. More CPU: the \
                 handler (password hashing routes run at 1024 MB for this). Many cold starts \
                 (`Cold starts`): a deploy, or traffic after a quiet spell.",
    },
    Runbook {
        alarms: "*RollbackAlarm",
        means: "During a deploy, the function's new version crashed, timed out, answered a \
                500 or passed the p99 threshold. CodeDeploy has moved the alias `live` back \
                to the old version and the stack update failed and rolled back: users are on \
                the old version. No one is paged: this alarm only steers the deploy.",
        graph: "Faults: 500s, bugs",
        logs: "the function's log group; a version's lines are in its streams \
               (`[<version>]` in `@logStream`)",
        query: "fields @timestamp, @logStream, fields.error, @message\n\
                | filter level = \"ERROR\" or @message like /panicked|Task timed out/\n\
                | sort @timestamp desc\n\
                | limit 50",
        action: "Find the cause in the new version's streams, fix it, deploy again. Nothing \
                 to undo.",
    },
    Runbook {
        alarms: "*IteratorAgeAlarm",
        means: "A stream consumer stayed more than `StreamLagThresholdMs` behind the table's \
                stream for 3 of 5 minutes. Users still see their own changes at once (they \
                are written synchronously); others see fan-out and clean-ups late.",
        graph: "Lambda iterator age (ms, max): the IteratorAgeAlarms",
        logs: "the consumer's log group, `/aws/lambda/<stack>/<consumer>`",
        query: "fields @timestamp, @message\n\
                | filter level in [\"ERROR\", \"WARN\"]\n\
                | sort @timestamp desc\n\
                | limit 50",
        action: "A batch failing again and again blocks its shard until it is retried 5 \
                 times or six hours old, then goes to `StreamFailuresQueue`: fix the cause \
                 (a deploy fixes the consumer in flight). \"Stream batches stopped at a failing \
                 record\" shows which consumer. A consumer throttled (`Lambda throttles`) \
                 needs concurrency. A burst of writes (a migration, a bulk \
                 import) catches up by itself.",
    },
];

/// Manual procedures the runbooks point to.
const PROCEDURES: &str = include_str!("runbooks/procedures.md");

/// The whole `docs/operations.md`.
pub fn operations_md(jobs: &[&Job]) -> String {
    let mut out = String::from(
        "# Operations: what each alarm means and what to do\n\n\
         Generated by `make generate` from xtask/src/runbooks.rs and the scheduled jobs \
         (functions/src/jobs.rs): do not edit. Every alarm of infra/template.yaml has an \
         entry here (a test fails otherwise). Alarms notify the stack's `AlarmTopic` (the \
         `AlarmEmail` parameter subscribes an address). `<stack>` is the stack's name \
         (`conduit-dev`, `conduit-prod`); the graphs are on its dashboard (the \
         `DashboardUrl` output); the queries run in CloudWatch Logs Insights.\n",
    );
    for runbook in RUNBOOKS {
        let title = match runbook.alarms.strip_prefix('*') {
            Some(suffix) => format!("`<Function>{suffix}` (one per function)"),
            None => format!("`{}`", runbook.alarms),
        };
        entry(&mut out, &title, runbook);
    }
    for job in jobs {
        let (metric, meaning) = job.alarm;
        let log_group = format!("`/aws/lambda/<stack>/{}`", job.name);
        let means = format!(
            "The scheduled job `{}` ({}, `{}`) recorded `{metric}` above zero: {meaning}.",
            job.name,
            job.summary.to_lowercase(),
            job.schedule
        );
        let runbook = Runbook {
            alarms: "",
            means: &means,
            graph: "Alarms",
            logs: &log_group,
            query: "fields @timestamp, level, @message\n| sort @timestamp desc\n| limit 50",
            action: "Its log says what the run did. A run can be repeated by hand (the \
                     function's Test tab in the console with `{}`, or `conduit-admin`): each \
                     job is safe to run again.",
        };
        let title = format!("`{}Alarm` (the `{}` job)", logical_id(job.name), job.name);
        entry(&mut out, &title, &runbook);
    }
    out.push('\n');
    out.push_str(PROCEDURES);
    out
}

fn entry(out: &mut String, title: &str, runbook: &Runbook) {
    write!(
        out,
        "\n## {title}\n\n**Means.** {}\n\n**Look first.** The dashboard's graph \"{}\"; then \
         Logs Insights over {}:\n\n```\n{}\n```\n\n**Do.** {}\n",
        runbook.means, runbook.graph, runbook.logs, runbook.query, runbook.action
    )
    .expect("writing to a String cannot fail");
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The logical ids of the template's alarms.
    pub(crate) fn alarm_ids(template: &str) -> Vec<&str> {
        let lines: Vec<&str> = template.lines().collect();
        lines
            .windows(2)
            .filter(|pair| pair[1].trim() == "Type: AWS::CloudWatch::Alarm")
            .filter_map(|pair| pair[0].trim().strip_suffix(':'))
            .collect()
    }

    /// Whether `alarm` is covered by `pattern` (a logical id or `*Suffix`).
    fn covers(pattern: &str, alarm: &str) -> bool {
        match pattern.strip_prefix('*') {
            Some(suffix) => alarm.ends_with(suffix) && alarm.len() > suffix.len(),
            None => pattern == alarm,
        }
    }

    fn template() -> String {
        crate::template::sam_template(functions::ROUTES, functions::CONSUMERS)
    }

    #[test]
    fn every_alarm_of_the_template_has_one_runbook() {
        let template = template();
        let alarms = alarm_ids(&template);
        assert!(alarms.len() > 80, "{alarms:?}");
        let job_alarms: Vec<String> = functions::JOBS
            .iter()
            .map(|job| format!("{}Alarm", logical_id(job.name)))
            .collect();
        for alarm in alarms {
            let entries = RUNBOOKS
                .iter()
                .filter(|runbook| covers(runbook.alarms, alarm))
                .count()
                + job_alarms.iter().filter(|job| *job == alarm).count();
            assert_eq!(
                entries, 1,
                "{alarm}: {entries} runbook entries, expected one"
            );
        }
    }

    #[test]
    fn every_runbook_covers_an_alarm_and_names_a_graph_of_the_dashboard() {
        let template = template();
        let alarms = alarm_ids(&template);
        let dashboard = crate::template::dashboard_in(&template);
        let widgets = dashboard["widgets"].as_array().unwrap();
        let titles: Vec<_> = widgets
            .iter()
            .map(|widget| widget["properties"]["title"].clone())
            .collect();
        for runbook in RUNBOOKS {
            assert!(
                alarms.iter().any(|alarm| covers(runbook.alarms, alarm)),
                "{} covers no alarm of the template",
                runbook.alarms
            );
            assert!(
                titles.contains(&runbook.graph.into()),
                "{}: the dashboard has no graph {:?}",
                runbook.alarms,
                runbook.graph
            );
        }
    }
}
