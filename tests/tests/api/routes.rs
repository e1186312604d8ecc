//! The route and consumer tables are the one source of truth: the Lambda
//! binaries, the OpenAPI document and the SAM template must all match them.

use std::collections::BTreeSet;

use conduit_tests::{repo_file, repo_path};

/// Every function's name: the routes', then the stream consumers'.
fn function_names() -> BTreeSet<String> {
    let routes = functions::ROUTES.iter().map(|r| r.function.to_owned());
    let consumers = functions::CONSUMERS.iter().map(|c| c.name.to_owned());
    let jobs = functions::JOBS.iter().map(|j| j.name.to_owned());
    routes.chain(consumers).chain(jobs).collect()
}

fn routes() -> BTreeSet<(String, String)> {
    functions::ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect()
}

#[test]
fn every_function_has_a_binary_serving_exactly_it() {
    let bins: BTreeSet<String> = std::fs::read_dir(repo_path("functions/src/bin"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(bins, function_names());
    for route in functions::ROUTES {
        let source = repo_file(&format!("functions/src/bin/{}.rs", route.function));
        let serves = format!("functions::routes::{},", route.name.to_uppercase());
        assert!(
            source.contains(&serves) || source.contains(&serves.replace(',', "]")),
            "{} must serve {serves}",
            route.function
        );
    }
}

#[test]
fn the_openapi_document_describes_exactly_the_served_routes() {
    let document = serde_json::to_value(functions::openapi::document(functions::ROUTES)).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert_eq!(documented, routes());
    // Every referenced schema exists.
    let text = document.to_string();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "missing schema {name}");
    }
}

#[test]
fn the_sam_template_routes_every_route_to_its_function() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(&repo_file("infra/template.yaml")).unwrap();
    let mut deployed = BTreeSet::new();
    let mut binaries = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        if let Some(binary) = resource["Metadata"]["BuildProperties"]["Binary"].as_str() {
            binaries.insert(binary.to_owned());
        }
        if let Some(events) = resource["Properties"]["Events"].as_mapping() {
            for (_, event) in events {
                let props = &event["Properties"];
                if let (Some(method), Some(path)) =
                    (props["Method"].as_str(), props["Path"].as_str())
                {
                    deployed.insert((method.to_uppercase(), path.to_owned()));
                }
            }
        }
    }
    assert_eq!(deployed, routes());
    assert_eq!(binaries, function_names());
}

#[test]
fn the_cargo_lambda_watch_router_maps_every_route_to_its_binary() {
    let manifest: toml::Value = repo_file("Cargo.toml").parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("[workspace.metadata.lambda.watch.router]");
    let mut mapped = BTreeSet::new();
    for (path, targets) in router {
        for target in targets.as_array().unwrap() {
            mapped.insert((
                target["method"].as_str().unwrap().to_owned(),
                path.clone(),
                target["function"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let expected: BTreeSet<(String, String, String)> = functions::ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_owned(),
                r.function.to_owned(),
            )
        })
        .collect();
    assert_eq!(mapped, expected);
}

#[test]
fn every_job_runs_on_its_schedule_and_has_its_alarm() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(&repo_file("infra/template.yaml")).unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    for job in functions::JOBS {
        let function = resources
            .values()
            .find(|r| r["Metadata"]["BuildProperties"]["Binary"] == job.name)
            .unwrap_or_else(|| panic!("no function for {}", job.name));
        let event = &function["Properties"]["Events"]["Schedule"];
        assert_eq!(event["Type"], "Schedule", "{}", job.name);
        assert_eq!(event["Properties"]["Schedule"], job.schedule);
        let (metric, _) = job.alarm;
        let alarmed = resources.values().any(|r| {
            r["Type"] == "AWS::CloudWatch::Alarm" && r["Properties"]["MetricName"] == metric
        });
        assert!(alarmed, "no alarm on {metric}");
    }
}
