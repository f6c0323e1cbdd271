"""Deployment files are consistent with each other and with the code (no Docker or cluster needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"


def load_k8s() -> dict[str, dict]:
    docs = {}
    for path in sorted(K8S.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        assert {"apiVersion", "kind", "metadata"} <= set(doc), path
        docs[doc["kind"]] = doc
    return docs


@pytest.fixture(scope="module")
def k8s():
    return load_k8s()


def test_deployment_runs_three_probed_non_root_replicas(k8s):
    deployment = k8s["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    container = pod["spec"]["containers"][0]
    assert container["args"][0] == "serve"
    port = next(p for p in container["ports"] if p["name"] == "http")["containerPort"]
    assert str(port) in container["args"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert refs == {k8s["Secret"]["metadata"]["name"], k8s["ConfigMap"]["metadata"]["name"]}
    assert pod["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"


def test_service_hpa_and_pdb_point_at_the_deployment(k8s):
    pod_labels = k8s["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert k8s["Service"]["spec"]["selector"].items() <= pod_labels.items()
    assert k8s["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    target = k8s["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", k8s["Deployment"]["metadata"]["name"])
    assert k8s["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 3
    pdb = k8s["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pdb["minAvailable"] < k8s["Deployment"]["spec"]["replicas"]


def test_migration_job_runs_the_real_migrate_command(k8s):
    from bot.cli import app

    job = k8s["Job"]["spec"]["template"]["spec"]
    assert job["containers"][0]["args"] == ["migrate"]
    assert job["containers"][0]["image"] == k8s["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert {"migrate", "serve", "chat", "diagnose"} <= commands
    assert k8s["ConfigMap"]["data"]["TRIAGE_AUTO_MIGRATE"] == "false"


def test_dockerfile_is_non_root_with_a_healthcheck():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    users = re.findall(r"(?m)^USER\s+(\S+)", dockerfile)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"(?m)^HEALTHCHECK .*\n?.*/healthz", dockerfile)
    assert re.search(r'(?m)^ENTRYPOINT \["prefect-triage"\]', dockerfile)
    exposed = re.search(r"(?m)^EXPOSE (\d+)", dockerfile).group(1)
    assert f'"--port", "{exposed}"' in dockerfile


def test_compose_brings_up_bot_postgres_and_prefect():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"bot", "postgres", "prefect", "migrate"} <= set(services)
    assert services["migrate"]["command"] == ["migrate"]
    assert services["bot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "@postgres:5432/" in services["bot"]["environment"]["DATABASE_URL"]
    assert services["bot"]["environment"]["PREFECT_API_URL"] == "http://prefect:4200/api"


def test_slack_manifest_matches_the_app():
    manifest = yaml.safe_load((ROOT / "deploy" / "slack-manifest.yaml").read_text())
    features, settings = manifest["features"], manifest["settings"]
    assert [c["command"] for c in features["slash_commands"]] == ["/triage"]
    assert features["shortcuts"][0]["callback_id"] == "triage_message"
    app_source = (ROOT / "bot" / "adapters" / "slack" / "app.py").read_text()
    assert '"triage_message"' in app_source and '"/triage"' in app_source
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.channels", "message.im", "app_home_opened"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    for event in events:
        if event.startswith("message."):
            assert f"{event.split('.')[1]}:history" in scopes, event
    assert {"chat:write", "commands", "files:read", "app_mentions:read"} <= scopes
    assert settings["interactivity"]["is_enabled"] is True
    assert set(Settings(_env_file=None).slack_scopes.split(",")) == scopes


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        aliases = field.validation_alias.choices if field.validation_alias else [name.upper()]
        assert any(f"`{alias}`" in readme for alias in aliases), f"README does not document {aliases[0]}"
