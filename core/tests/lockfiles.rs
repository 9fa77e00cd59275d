//! Manifests and lock files of real projects (sources:
//! fixtures/lockfiles/SOURCES.md) read into dependency edges the way a
//! repository import reads them: every file of the checkout, by path.

use switchboard_core::import::lockfiles::repository;
use switchboard_core::model::{Dependency, DependencyScope, Ecosystem};

fn repo(dir: &str) -> (Vec<Dependency>, Vec<switchboard_core::import::Skipped>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles").join(dir);
    repository(&switchboard_testkit::fixtures::tree(&root))
}

fn edge<'a>(deps: &'a [Dependency], package: &str) -> &'a Dependency {
    deps.iter().find(|d| d.package.as_str() == package).unwrap_or_else(|| panic!("no {package}"))
}

fn has(deps: &[Dependency], package: &str) -> bool {
    deps.iter().any(|d| d.package.as_str() == package)
}

fn direct(deps: &[Dependency]) -> usize {
    deps.iter().filter(|d| !d.transitive).count()
}

#[test]
fn cargo_crates_and_workspaces() {
    let (deps, skipped) = repo("cargo");
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(direct(&deps), 12, "9 dependencies and 3 dev-dependencies");
    let anyhow = edge(&deps, "anyhow");
    assert_eq!((anyhow.version.as_str(), anyhow.requirement.as_deref()), ("1.0.91", Some("1.0")));
    assert_eq!((anyhow.ecosystem, anyhow.source.as_deref()), (Ecosystem::Cargo, Some("Cargo.lock")));
    assert_eq!(edge(&deps, "assert_cmd").scope, DependencyScope::Dev);
    assert!(deps.iter().any(|d| d.transitive), "what the lock adds is transitive");
    assert!(!has(&deps, "hexyl"), "the crate itself is no dependency");

    let (deps, _) = repo("cargo-workspace");
    assert!(!has(&deps, "git-cliff") && !has(&deps, "git-cliff-core"), "members are the project");
    assert_eq!(edge(&deps, "bincode").version.as_str(), "2.0.1", "of two locked versions, the declared one");
    assert!(!edge(&deps, "bincode").transitive);
}

#[test]
fn npm_lock_files_of_every_version() {
    let (v3, _) = repo("npm-v3");
    assert_eq!(direct(&v3), 19, "5 dependencies and 14 devDependencies");
    let core = edge(&v3, "@actions/core");
    assert_eq!(
        (core.version.as_str(), core.requirement.as_deref(), core.scope),
        ("3.0.1", Some("^3.0.1"), DependencyScope::Runtime)
    );
    assert_eq!(edge(&v3, "@types/jest").scope, DependencyScope::Dev);
    assert!(v3.len() > 400);

    let (v1, _) = repo("npm-v1");
    assert_eq!(edge(&v1, "@actions/core").version.as_str(), "1.2.6");
    assert_eq!(direct(&v1), 20);

    let (yarn, _) = repo("yarn-v1");
    assert_eq!(edge(&yarn, "@zkochan/cmd-shim").version.as_str(), "3.1.0");
    assert!(!has(&yarn, "eslint-plugin-yarn-internal"), "a file: dependency is the project's own");
    assert!(yarn.len() > 800);

    let (pnpm, _) = repo("pnpm");
    assert!(!has(&pnpm, "h3"), "linked to the workspace itself");
    assert_eq!(edge(&pnpm, "@types/node").scope, DependencyScope::Dev);
    assert!(pnpm.iter().all(|d| !d.version.as_str().contains('(')), "peer suffixes are not versions");
    assert!(pnpm.len() > 500);
}

#[test]
fn python_poetry_uv_and_requirements() {
    let (poetry, _) = repo("poetry");
    let cleo = edge(&poetry, "cleo");
    assert_eq!((cleo.version.as_str(), cleo.requirement.as_deref()), ("2.1.0", Some("^2.1.0")));
    assert_eq!(edge(&poetry, "coverage").scope, DependencyScope::Dev);
    assert!(!has(&poetry, "python") && !has(&poetry, "poetry"));

    let (uv, _) = repo("uv");
    assert!(!has(&uv, "flask"), "the editable project itself");
    let jinja = edge(&uv, "jinja2");
    assert_eq!(
        (jinja.version.as_str(), jinja.requirement.as_deref(), jinja.transitive),
        ("3.1.6", Some(">=3.1.2"), false)
    );

    let (reqs, skipped) = repo("requirements");
    assert!(skipped.is_empty(), "{skipped:?}");
    assert!(reqs.iter().all(|d| d.source.as_deref().is_some_and(|s| s.starts_with("requirements/"))));
    let click = edge(&reqs, "click");
    assert_eq!(
        (click.version.as_str(), click.requirement.as_deref()),
        (">=8.1.2,<9.0", None),
        "no lock: the requirement"
    );
}

#[test]
fn go_modules_and_bundler() {
    let (go, _) = repo("go");
    assert_eq!((go.len(), direct(&go)), (11, 7), "four are // indirect");
    assert_eq!(edge(&go, "golang.org/x/sys").version.as_str(), "v0.35.0");

    let (gems, _) = repo("bundler");
    assert!(!has(&gems, "devise"), "the gem itself (PATH) is the project");
    assert_eq!(edge(&gems, "mongoid").version.as_str(), "9.0.10");
    assert_eq!(edge(&gems, "minitest").scope, DependencyScope::Dev);
    assert!(gems.iter().all(|d| d.ecosystem == Ecosystem::Gem));
}

#[test]
fn maven_poms_with_properties_parents_and_scopes() {
    let (petclinic, skipped) = repo("maven");
    assert!(skipped.is_empty(), "{skipped:?}");
    assert!(petclinic.iter().all(|d| d.ecosystem == Ecosystem::Maven && !d.transitive));
    let parent = edge(&petclinic, "org.springframework.boot:spring-boot-starter-parent");
    assert_eq!((parent.version.as_str(), parent.scope), ("4.0.3", DependencyScope::Build));
    assert_eq!(edge(&petclinic, "org.webjars.npm:bootstrap").version.as_str(), "5.3.8", "from <properties>");
    // Versions the published parent manages are not in the file: left out.
    assert!(!has(&petclinic, "com.h2database:h2"));
    assert_eq!(edge(&petclinic, "org.webjars:webjars-locator-lite").source.as_deref(), Some("pom.xml"));

    let (databind, _) = repo("maven-properties");
    let mockito = edge(&databind, "org.mockito:mockito-core");
    assert_eq!((mockito.version.as_str(), mockito.scope), ("4.11.0", DependencyScope::Dev));
    assert_eq!(edge(&databind, "com.google.guava:guava-testlib").version.as_str(), "31.1-jre");
    assert!(!has(&databind, "com.fasterxml.jackson.core:jackson-core"), "its version is the parent's property");
    assert!(!has(&databind, "com.fasterxml.jackson.core:jackson-databind"), "the POM itself is the project");
}

#[test]
fn a_broken_file_is_skipped_and_the_rest_read() {
    let files = vec![
        ("Cargo.toml".to_owned(), "[dependencies\nserde = 1".to_owned()),
        ("web/package.json".to_owned(), r#"{"dependencies": {"left-pad": "1.3.0"}}"#.to_owned()),
        ("web/package-lock.json".to_owned(), "{oops".to_owned()),
        ("go.mod".to_owned(), "module x\nrequire github.com/a/b v1.0.0\n".to_owned()),
        ("legacy/pom.xml".to_owned(), "<project><dependencies>".to_owned()),
    ];
    let (deps, skipped) = repository(&files);
    let paths: Vec<&str> = skipped.iter().map(|s| s.what.as_str()).collect();
    assert_eq!(paths, ["Cargo.toml", "legacy/pom.xml", "web/package-lock.json"]);
    assert!(skipped[1].reason.starts_with("not a POM") && skipped[2].reason.contains("not JSON"), "{skipped:?}");
    assert!(has(&deps, "left-pad") && has(&deps, "github.com/a/b"), "{deps:?}");
}
