"""The deployment files, checked without running them: each against its format's schema or
its own tool's dry run, then against the app (probe paths that exist, HYPEREDU_* names that
Settings reads, metric names /metrics serves). Nothing here needs a Docker daemon or a cluster.

Tools: check-jsonschema and kubernetes-validate (PyPI), kubectl (for `kubectl kustomize`),
and Debian's victoria-metrics package (vmalert, victoria-metrics dry runs)."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import yaml
from prometheus_client import REGISTRY

import ingest.metrics
import lrs.metrics
from core.config import ENV_PREFIX, Settings
from hyperedu.cli import build_parser
from lrs.app import create_app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if p.is_dir())
VM = ROOT / "deploy" / "victoriametrics"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "hyperedu.json"
HYPEREDU_SERVICES = ("api", "relay", "consumer")
APT = "apt-get install -y victoria-metrics"
CHECK_COMPOSE = [
    sys.executable,
    "-m",
    "check_jsonschema",
    "--builtin-schema",
    "vendor.compose-spec",
]
SETTINGS_ENV = {ENV_PREFIX + f.name.upper() for f in msgspec.structs.fields(Settings)}
COMPONENT = "app.kubernetes.io/component"
# The scaled split: component -> (Deployment, the `hyperedu` arguments it runs).
SPLIT = {
    "api": ("hyperedu-api", ["serve"]),
    "relay": ("hyperedu-relay", ["relay"]),
    "consumer": ("hyperedu-consumer", ["consumer"]),
}
# The objects that select pods, and the one Deployment whose pods each must select.
SELECTING = {
    ("Service", "hyperedu-api"): "hyperedu-api",
    ("PodDisruptionBudget", "hyperedu-api"): "hyperedu-api",
    **{("Deployment", name): name for name, _ in SPLIT.values()},
}
# deploy/k8s/overlays/100k-rps: what its arithmetic comment comes to.
PROFILE_100K = {"hyperedu-api": 7, "hyperedu-relay": 1, "hyperedu-consumer": 15}


def tool(name: str, hint: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: {hint}")
    return found


def python_module(name: str, package: str) -> None:
    try:
        __import__(name)
    except ImportError:
        pytest.fail(f"{package} is missing: pip install {package} (the [test] extra)")


def hyperedu_env_names(names: Any) -> set[str]:
    return {n for n in names if n.startswith(ENV_PREFIX)}


def metric_sample_names() -> set[str]:
    assert ingest.metrics and lrs.metrics  # imported for their registrations
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(s.name for s in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_count", "_sum"))
    return names


@cache
def served_paths() -> dict[str, int]:
    """GET status of the probe and metrics paths on the real app (no lifespan: no database)."""
    app = create_app(Settings(), b"k" * 32, "postgresql://unused")

    async def get_all() -> dict[str, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lrs") as client:
            return {
                p: (await client.get(p)).status_code for p in ("/healthz", "/readyz", "/metrics")
            }

    return asyncio.run(get_all())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Each kustomization (base and overlays) as `kubectl kustomize` renders it."""
    kubectl = tool("kubectl", "install kubectl >= 1.27 (Debian's kubernetes-client is too old)")
    out = {}
    for directory in [K8S / "base", *OVERLAYS]:
        done = subprocess.run(
            [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        out[directory.name] = [d for d in yaml.safe_load_all(done.stdout) if d]
    return out


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind]
    return doc


def named(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def container_of(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container  # type: ignore[no-any-return]


def container_env(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """The environment a container gets: its ConfigMaps (as rendered, hash suffixes and all),
    then its own entries; a Secret's value stands as `secret:NAME/KEY`."""
    maps = named(docs, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(maps[source["configMapRef"]["name"]]["data"])
    for entry in container.get("env", []):
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        env[entry["name"]] = f"secret:{ref['name']}/{ref['key']}" if ref else entry["value"]
    return env


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels, matchExpressions) selects pods with `labels`."""
    if not set(selector) <= {"matchLabels", "matchExpressions"}:
        raise AssertionError(f"not a LabelSelector: {selector}")
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if not {
            "In": present and labels.get(key) in (values or ()),
            "NotIn": not present or labels[key] not in (values or ()),
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]:
            return False
    return True


def pod_selector(doc: dict[str, Any]) -> dict[str, Any]:
    """The pods an object selects, as a LabelSelector. A Service's selector is a plain map,
    and an empty one selects no pod (where an empty LabelSelector selects every pod)."""
    selector = doc["spec"]["selector"]
    if doc["kind"] == "Service":
        assert selector, "a Service without a selector selects no pod"
        return {"matchLabels": selector}
    return selector  # type: ignore[no-any-return]


def selected_deployments(docs: list[dict[str, Any]], selector: dict[str, Any]) -> set[str]:
    """The Deployments whose pods (their template's labels) `selector` selects."""
    return {
        name
        for name, d in named(docs, "Deployment").items()
        if selects(selector, d["spec"]["template"]["metadata"]["labels"])
    }


# The probes and /metrics the files point at are served by the app.


def test_the_app_serves_the_probe_and_metrics_paths() -> None:
    assert served_paths() == {"/healthz": 200, "/readyz": 503, "/metrics": 200}


# docker-compose.yml


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    python_module("check_jsonschema", "check-jsonschema")
    done = subprocess.run(
        [*CHECK_COMPOSE, str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_runs_the_whole_stack(compose: dict[str, Any]) -> None:
    images = " ".join(s.get("image", "") for s in compose["services"].values())
    for part in ("timescale/timescaledb", "apache/kafka", "clickhouse/", "victoria-metrics"):
        assert part in images
    assert "grafana/grafana" in images
    kafka = compose["services"]["kafka"]["environment"]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"]  # KRaft: no ZooKeeper
    assert "zookeeper" not in compose["services"]
    for name in HYPEREDU_SERVICES:
        assert compose["services"][name]["image"] == compose["services"]["api"]["image"]


def test_compose_sets_only_hyperedu_settings_that_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        unknown = hyperedu_env_names(service.get("environment") or {}) - SETTINGS_ENV
        assert not unknown, f"{name}: {unknown} are not Settings fields"


@pytest.mark.parametrize("service", HYPEREDU_SERVICES)
def test_compose_commands_are_hyperedu_commands(compose: dict[str, Any], service: str) -> None:
    command = compose["services"][service]["command"][0]
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert command in choices


def test_compose_mounts_files_that_exist(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


def test_compose_api_health_check_is_a_served_path(compose: dict[str, Any]) -> None:
    check = " ".join(compose["services"]["api"]["healthcheck"]["test"])
    path = re.search(r"http://[^/]+(/[a-z]+)", check)
    assert path and served_paths()[path.group(1)] in (200, 503)


# Dockerfile


def test_dockerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    lines = [ln.strip() for ln in DOCKERFILE.read_text().splitlines()]
    assert sum(ln.startswith("FROM ") for ln in lines) >= 2
    assert any(ln.startswith("COPY --from=") for ln in lines)
    (user,) = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert user.split(":")[0] not in ("0", "root")
    assert 'ENTRYPOINT ["hyperedu"]' in lines and 'CMD ["serve"]' in lines
    text = DOCKERFILE.read_text()
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert served_paths()["/healthz"] == 200
    env_names = set(re.findall(r"\b(HYPEREDU_[A-Z_]+)=", text))
    assert env_names and env_names <= SETTINGS_ENV


# Kubernetes (kustomize base and overlays)


def test_kubernetes_manifests_are_valid_against_the_kubernetes_schemas(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    python_module("kubernetes_validate", "kubernetes-validate")
    import kubernetes_validate

    version = kubernetes_validate.latest_version()
    for name, docs in rendered.items():
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name}: {doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    broken = {**by_kind(rendered["base"], "Service"), "spec": {"portz": []}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_kubernetes_renders_the_scaled_split(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, docs in rendered.items():
        deployments = named(docs, "Deployment")
        assert sorted(deployments) == sorted(d for d, _ in SPLIT.values()), name
        for component, (deployment, args) in SPLIT.items():
            pod = deployments[deployment]["spec"]["template"]
            assert pod["metadata"]["labels"][COMPONENT] == component, (name, deployment)
            assert container_of(deployments[deployment])["args"] == args, (name, deployment)
            assert args[0] in choices
        envs = {c: container_env(docs, container_of(deployments[d])) for c, (d, _) in SPLIT.items()}
        # api: HTTP only; the consumers and the relay are the other two Deployments.
        assert envs["api"]["HYPEREDU_ROLE"] == "api", name
        for component in ("relay", "consumer"):
            assert envs[component]["HYPEREDU_KAFKA_BOOTSTRAP"], (name, component)
        # role api reads no Kafka setting; where it is set, role `all` would start a relay.
        assert "HYPEREDU_KAFKA_BOOTSTRAP" not in envs["api"], name
        # The LMS IRIs and progress's authority are built from the public URL on both sides.
        assert envs["api"]["HYPEREDU_PUBLIC_URL"] == envs["consumer"]["HYPEREDU_PUBLIC_URL"]
        assert envs["api"]["HYPEREDU_PUBLIC_URL"].startswith(("http://", "https://"))
        # The Secret: the api digests credentials; relay and consumer need only the database.
        assert envs["api"]["HYPEREDU_DATABASE_URL"] == "secret:hyperedu/database-url"
        assert envs["api"]["HYPEREDU_SECRET_KEY"] == "secret:hyperedu/secret-key"
        for component in ("relay", "consumer"):
            assert envs[component]["HYPEREDU_DATABASE_URL"] == "secret:hyperedu/database-url"
            assert "HYPEREDU_SECRET_KEY" not in envs[component], (name, component)
        # One relay: the PostgreSQL bus lets one reader of group relay.kafka work at a time.
        assert deployments["hyperedu-relay"]["spec"]["replicas"] == 1, name


def test_kubernetes_each_selector_selects_only_its_own_component(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for name, docs in rendered.items():
        selecting = {
            (d["kind"], d["metadata"]["name"]): d for d in docs if "selector" in d.get("spec", {})
        }
        assert selecting.keys() == SELECTING.keys(), name
        for key, deployment in SELECTING.items():
            chosen = selected_deployments(docs, pod_selector(selecting[key]))
            assert chosen == {deployment}, (name, key, chosen)
        for own, deployment in named(docs, "Deployment").items():
            spreads = deployment["spec"]["template"]["spec"].get("topologySpreadConstraints", [])
            for spread in spreads:
                assert selected_deployments(docs, spread["labelSelector"]) == {own}, own
        (hpa,) = named(docs, "HorizontalPodAutoscaler").values()
        assert hpa["spec"]["scaleTargetRef"]["name"] == SPLIT["api"][0]
    # The check can fail: the base's labels before the split (component api on every pod)
    # would have the api Service select all three Deployments.
    lumped = copy.deepcopy(rendered["base"])
    for deployment in named(lumped, "Deployment").values():
        deployment["spec"]["template"]["metadata"]["labels"][COMPONENT] = "api"
    service = named(lumped, "Service")["hyperedu-api"]
    assert selected_deployments(lumped, pod_selector(service)) == set(named(lumped, "Deployment"))


def test_kubernetes_api_has_the_parts_of_a_production_deployment(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for docs in rendered.values():
        for deployment in named(docs, "Deployment").values():
            pod = deployment["spec"]["template"]
            container = container_of(deployment)
            assert container["resources"]["requests"]["cpu"]
            assert container["resources"]["requests"]["memory"]
            assert container["resources"]["limits"]["memory"]
            assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            # Service links would put HYPEREDU_*_PORT=tcp://... into the environment.
            assert pod["spec"]["enableServiceLinks"] is False
        api = container_of(named(docs, "Deployment")["hyperedu-api"])
        assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
        hpa = by_kind(docs, "HorizontalPodAutoscaler")["spec"]
        scaled_on = [
            m.get("resource", m.get("pods", {}).get("metric", {})).get("name")
            for m in hpa["metrics"]
        ]
        assert scaled_on == ["cpu", "hyperedu_http_requests_per_second"]


def test_kubernetes_probe_and_port_settings_match_the_app(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    served = served_paths()
    for docs in rendered.values():
        for config in named(docs, "ConfigMap").values():
            assert hyperedu_env_names(config["data"]) == set(config["data"]) <= SETTINGS_ENV
        for deployment in named(docs, "Deployment").values():
            env = container_env(docs, container_of(deployment))
            assert hyperedu_env_names(env) <= SETTINGS_ENV
        deployment = named(docs, "Deployment")["hyperedu-api"]
        container = container_of(deployment)
        port = int(container_env(docs, container)["HYPEREDU_PORT"])
        assert container["ports"][0]["containerPort"] == port
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert served[container[probe]["httpGet"]["path"]] in (200, 503)
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(port)
        assert served[annotations["prometheus.io/path"]] == 200
        # `hyperedu relay` and `consumer` serve no HTTP: nothing to probe, scrape or route to.
        for component in ("relay", "consumer"):
            deployment = named(docs, "Deployment")[SPLIT[component][0]]
            container = container_of(deployment)
            assert not container.keys() & {"ports", "readinessProbe", "livenessProbe"}
            assert not container.keys() & {"startupProbe"}
            assert "annotations" not in deployment["spec"]["template"].get("metadata", {})


def test_each_overlay_runs_one_worker_per_requested_core(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for overlay in OVERLAYS:
        docs = rendered[overlay.name]
        container = container_of(named(docs, "Deployment")["hyperedu-api"])
        workers = int(container_env(docs, container)["HYPEREDU_WORKERS"])
        assert str(workers) == str(container["resources"]["requests"]["cpu"])
        text = (overlay / "kustomization.yaml").read_text()
        cited = re.findall(r"bench/results/ingest-[0-9T:Z-]+\.json", text)
        assert cited, "the overlay must name the benchmark result its numbers come from"
        assert all((ROOT / path).exists() for path in cited)


def test_the_100k_overlay_renders_the_replicas_its_arithmetic_comes_to(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    docs = rendered["100k-rps"]
    replicas = {n: d["spec"]["replicas"] for n, d in named(docs, "Deployment").items()}
    assert replicas == PROFILE_100K
    hpa = named(docs, "HorizontalPodAutoscaler")["hyperedu-api"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (7, 12)
    # Requests/s a pod sustains: the overlay's pods have twice the base's cores.
    base_hpa = named(rendered["base"], "HorizontalPodAutoscaler")["hyperedu-api"]["spec"]

    def requests_per_pod(spec: dict[str, Any]) -> float:
        (pods,) = [m["pods"] for m in spec["metrics"] if m["type"] == "Pods"]
        return float(pods["target"]["averageValue"])

    assert requests_per_pod(hpa) == pytest.approx(2 * requests_per_pod(base_hpa), rel=0.02)
    text = (K8S / "overlays" / "100k-rps" / "kustomization.yaml").read_text()

    def figure(pattern: str) -> list[int]:
        found = re.search(pattern, text, re.MULTILINE)
        assert found, pattern
        return [int(g) for g in found.groups()]

    assert figure(r"^#\s+pods\s+=.*=\s*(\d+)$") == [replicas["hyperedu-api"]]
    (partitions,) = figure(r"^#\s+partitions of xapi\.statements\s+=.*=\s*(\d+)$")
    assert figure(r"^#\s+hyperedu-consumer replicas\s+=.*=\s*(\d+)$") == [partitions]
    assert replicas["hyperedu-consumer"] == partitions
    # PostgreSQL connections = pods * HYPEREDU_WORKERS * HYPEREDU_DB_POOL_SIZE = a * b * c = d
    pods, workers, pool, total = figure(r"=\s*(\d+) \* (\d+) \* (\d+) = (\d+)$")
    env = container_env(docs, container_of(named(docs, "Deployment")["hyperedu-api"]))
    assert (pods, workers, pool) == (
        replicas["hyperedu-api"],
        int(env["HYPEREDU_WORKERS"]),
        int(env["HYPEREDU_DB_POOL_SIZE"]),
    )
    assert total == pods * workers * pool


# VictoriaMetrics: scrape config and alerts; Grafana dashboard


def test_scrape_config_passes_victoria_metrics_dry_run() -> None:
    binary = tool("victoria-metrics", APT)
    done = subprocess.run(
        [binary, f"-promscrape.config={VM / 'scrape.yml'}", "-promscrape.config.dryRun"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_alert_rules_pass_vmalert_dry_run() -> None:
    binary = tool("vmalert", APT)
    done = subprocess.run(
        [binary, f"-rule={VM / 'alerts.yml'}", "-dryRun"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_alerts_and_dashboard_query_only_metrics_the_app_serves() -> None:
    known = metric_sample_names()
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = yaml.safe_load((VM / "alerts.yml").read_text())
    exprs += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    used = {name for expr in exprs for name in re.findall(r"\bhyperedu_[a-z_]+", expr)}
    assert used and used <= known, used - known


def test_dashboard_shows_ingest_latency_errors_queue_and_commits() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    for metric in (
        "hyperedu_statements_accepted_total",
        "hyperedu_http_request_seconds_bucket",
        "hyperedu_statements_rejected_total",
        "hyperedu_queue_statements",
        "hyperedu_commit_seconds_bucket",
    ):
        assert metric in exprs
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
