//! The deploy workflow has no deploy logic of its own: each step is one call
//! of an entry point a person can run, and the deploy itself is the one the
//! rehearsal (scripts/deploy-check.sh) runs, so what is rehearsed is what
//! runs. Tests only (compiled with `cargo test`): they read the files as
//! committed.

/// The commands a step may run: the Makefile's targets, the scripts, and
/// packing the build for the next job.
const ENTRY_POINTS: [&str; 4] = ["make ", "scripts/", "bash scripts/", "tar "];

/// What turns a command into a program of its own.
const INLINE_LOGIC: [&str; 9] = ["|", ";", "&&", "$(", "`", "<<", "\n", "aws ", "sam "];

/// Every step's `run:` command, in order.
fn run_commands(workflow: &str) -> Vec<String> {
    let lines: Vec<&str> = workflow.lines().collect();
    let mut commands = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let Some((indent, command)) = line.split_once("run: ") else {
            continue;
        };
        if !indent
            .trim_start_matches(' ')
            .trim_start_matches("- ")
            .is_empty()
        {
            continue;
        }
        // A block scalar (`run: |`): the lines under it, joined with newlines.
        if command.starts_with('|') || command.starts_with('>') {
            let body = lines[n + 1..]
                .iter()
                .take_while(|next| next.len() - next.trim_start().len() > indent.len())
                .map(|next| next.trim())
                .collect::<Vec<_>>();
            commands.push(body.join("\n"));
        } else {
            commands.push(command.trim().to_string());
        }
    }
    commands
}

/// What is wrong with one step's command, if anything.
fn problem(command: &str) -> Option<String> {
    if !ENTRY_POINTS.iter().any(|entry| command.starts_with(entry)) {
        return Some(format!("`{command}` is not a make target or a script"));
    }
    INLINE_LOGIC
        .iter()
        .find(|logic| command.contains(*logic))
        .map(|logic| format!("`{command}` has inline logic ({logic:?}): put it in a script"))
}

mod tests {
    use super::*;

    fn read(path: &str) -> String {
        let path = crate::generated::workspace_root().join(path);
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    }

    #[test]
    fn every_step_of_the_deploy_workflow_calls_an_entry_point() {
        let commands = run_commands(&read(".github/workflows/deploy.yml"));
        assert!(commands.len() >= 6, "found only {commands:?}");
        let problems: Vec<String> = commands.iter().filter_map(|c| problem(c)).collect();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn the_rehearsal_deploys_as_the_workflow_does() {
        let rehearsal = read("scripts/deploy-check.sh");
        let deploys: Vec<String> = run_commands(&read(".github/workflows/deploy.yml"))
            .into_iter()
            .filter(|c| c.starts_with("scripts/deploy.sh "))
            .collect();
        assert_eq!(
            deploys.len(),
            2,
            "a deploy of dev and one of prod: {deploys:?}"
        );
        // The rehearsal's call: `scripts/deploy.sh "$env" --built --yes "$@"`;
        // --built because it deploys make sam-build's build, as the prod job
        // deploys dev's.
        let call = rehearsal
            .lines()
            .find(|line| line.contains("scripts/deploy.sh \"$env\""))
            .expect("deploy-check.sh runs scripts/deploy.sh");
        for deploy in &deploys {
            for flag in deploy.split(' ').filter(|word| word.starts_with("--")) {
                assert!(call.contains(flag), "the rehearsal's `{call}` lacks {flag}");
            }
        }
    }

    #[test]
    fn inline_logic_is_caught() {
        let workflow = "steps:\n      - name: a\n        run: make infra-check\n      - run: |\n          secret=$(aws ssm get-parameter)\n          hurl --header \"$secret\"\n      - name: b\n        run: sam deploy --config-env dev\n";
        let commands = run_commands(workflow);
        assert_eq!(commands.len(), 3, "{commands:?}");
        assert_eq!(problem(&commands[0]), None);
        assert!(problem(&commands[1]).unwrap().contains("not a make target"));
        assert!(problem(&commands[2]).unwrap().contains("not a make target"));
        assert!(problem("scripts/deploy.sh dev && aws s3 ls").is_some());
        assert!(problem("bash scripts/setup.sh venv hurl").is_none());
    }
}
