//! Repository chores that are easier, and testable, in Rust than in shell.
//!
//! - `generate` (`make generate`) writes every file derived from the route
//!   table ([`generated`]); a test fails while a committed one differs.
//! - `sam-template` and `openapi` print one of them.
//! - the other `check-*` and `lambda-smoke`: the checks `scripts/` runs ([`checks`]).

mod checks;
#[cfg(test)]
mod deploy_workflow;
mod emf;
mod generated;
mod runbooks;
mod shims;
mod template;
mod watch_router;

const USAGE: &str = "usage: xtask COMMAND   (scripts/lib.sh builds it as the test build does)
  generate               write every file generated from the route table (make generate)
  sam-template           print infra/template.yaml
  edge-template          print infra/edge.yaml (the edge stack, us-east-1)
  openapi                print functions/openapi.json
  check-artifacts BUILD_DIR [SIZES_JSON]
                         each BUILD_DIR/*/bootstrap zipped within the 4 MB budget (sam-build.sh)
  samconfig ENV          ENV's deploy settings as shell assignments, for eval (deploy.sh,
                         deploy-check.sh, smoke-test.sh)
  check-samconfig [FILE] every deployed environment described in samconfig.toml (check-infra.sh)
  check-transformed PYTHON
                         the template after SAM's transform vs the route table, the edge stack
                         (infra/edge.yaml), and known mistakes in copies of them caught
                         (deploy-check.sh)
  check-deployed STATE ENV
                         a rehearsal deploy, read back: complete, its outputs and secret, deployed
                         as check-transformed checked it (deploy-check.sh)
  check-retained BEFORE AFTER ENV
                         after sam delete: the table and the secret kept, the rest gone (deploy-check.sh)
  check-feature-parity   the Makefile's other cargo builds reuse the test build's dependencies (check-infra.sh)
  lambda-smoke PORT DIR  every events/ fixture invoked, and the functions' EMF metrics and traces (shipped-e2e.sh)
  otlp-sink PORT DIR     the functions' OTLP collector, each export kept in DIR (shipped-e2e.sh)
  shipped-functions      each function's name and .aws-sam/build directory, consumers too (shipped-e2e.sh)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate"] => generated::write_all(&generated::workspace_root()),
        ["sam-template"] => {
            print!(
                "{}",
                template::sam_template(functions::ROUTES, functions::CONSUMERS)
            );
            Ok(())
        }
        ["edge-template"] => {
            print!(
                "{}",
                template::edge::edge_template(template::edge::SIGN_IN_ROUTES)
            );
            Ok(())
        }
        ["openapi"] => {
            print!("{}", generated::openapi_json());
            Ok(())
        }
        ["check-artifacts", dir] => checks::artifacts::run(dir, None),
        ["check-artifacts", dir, sizes] => checks::artifacts::run(dir, Some(sizes)),
        ["samconfig", env] => checks::read(&generated::workspace_root().join("samconfig.toml"))
            .and_then(|text| checks::samconfig::shell_settings(&text, env))
            .map(|settings| println!("{settings}")),
        ["check-samconfig"] => {
            checks::samconfig::run(&generated::workspace_root().join("samconfig.toml"))
        }
        ["check-samconfig", file] => checks::samconfig::run(std::path::Path::new(file)),
        ["check-transformed", python] => checks::breaks::run(&generated::workspace_root(), python),
        ["check-deployed", state, env] => checks::deployed::run(std::path::Path::new(state), env),
        ["check-retained", before, after, env] => checks::deployed::run_retained(
            std::path::Path::new(before),
            std::path::Path::new(after),
            env,
        ),
        ["check-feature-parity"] => checks::feature_parity::run(&generated::workspace_root()),
        ["shipped-functions"] => {
            // Each function's name (the router's, or the consumer's) and its
            // directory under .aws-sam/build (its logical id).
            let http = conduit_common::http::by_function(functions::ROUTES);
            let consumers = functions::CONSUMERS.iter().map(|consumer| consumer.name);
            for name in http.into_iter().map(|(name, _)| name).chain(consumers) {
                println!("{name} {}Function", template::logical_id(name));
            }
            Ok(())
        }
        ["otlp-sink", port, dir] => checks::otlp_sink::run(port, dir.as_ref()),
        ["lambda-smoke", port, dir] => {
            checks::lambda_smoke::run(&generated::workspace_root(), port, dir.as_ref())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(problem) = result {
        eprintln!("{problem}");
        std::process::exit(1);
    }
}
