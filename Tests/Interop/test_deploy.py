"""deploy/: the Dockerfile and compose.yaml, linted (hadolint, the compose-spec schema) and checked for what the server
needs in a container. Building and running the image needs a Docker engine: see test_docker_image.py (RLM_DOCKER_E2E=1)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO

DOCKERFILE = REPO / "deploy" / "Dockerfile"
COMPOSE = REPO / "deploy" / "compose.yaml"


def venv_tool(name: str) -> str:
    """A linter installed from Tests/Interop/requirements.txt, next to this interpreter or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is missing: install Tests/Interop/requirements.txt (scripts/test.sh does)"
    return found


def instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n(\s*#[^\n]*\n)*", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def test_hadolint_passes_and_is_real(tmp_path):
    hadolint = venv_tool("hadolint")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same linter must object to a classic mistake, or it is not checking anything.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:bookworm-slim\nRUN cd /tmp && apt-get install python3\n")
    complaint = subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert complaint.returncode != 0 and "DL3003" in complaint.stdout


def test_dockerfile_is_multi_stage_with_a_slim_non_root_runtime():
    text = DOCKERFILE.read_text()
    build, runtime = stages(text)
    assert build[0][1].endswith("AS build") and "SWIFT_IMAGE" in build[0][1]
    assert runtime[0][1].endswith("AS runtime") and "RUNTIME_IMAGE" in runtime[0][1]
    assert re.search(r"^ARG RUNTIME_IMAGE=debian:\S+-slim$", text, re.MULTILINE)
    build_run = " ".join(rest for keyword, rest in build if keyword == "RUN")
    assert "scripts/build-release.sh" in build_run, "the image builds with the release flags setup.sh uses"
    assert "flags=(-c release --product rlm-mcp --static-swift-stdlib" in (REPO / "scripts" / "build-release.sh").read_text()
    assert ".resources" in build_run, "the worker script's resource bundle must travel with the binary"

    runtime_run = " ".join(rest for keyword, rest in runtime if keyword == "RUN")
    for package in ("python3", "bubblewrap", "ca-certificates"):
        assert re.search(rf"apt-get install -y --no-install-recommends [^&]*\b{package}\b", runtime_run), package
    assert "libcurl" not in runtime_run, "nothing links FoundationNetworking: the image needs no libcurl"
    assert "rm -rf /var/lib/apt/lists/*" in runtime_run
    assert ("COPY", "--from=build /staging/bin/ /opt/rlm-mcp/bin/") in runtime

    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the server must not run as root"
    assert "--uid 10001" in runtime_run and users[-1] == "10001:10001"

    env = " ".join(rest for keyword, rest in runtime if keyword == "ENV")
    assert "MCP_TRANSPORT=streamable-http" in env and "MCP_HOST=0.0.0.0" in env and "MCP_PORT=8000" in env
    assert "MCP_AUTH_TOKEN" not in env and "API_KEY" not in text, "no secret may be baked into the image"
    health = [rest for keyword, rest in runtime if keyword == "HEALTHCHECK"]
    assert len(health) == 1 and "/health" in health[0] and "CMD" in health[0]
    assert ("EXPOSE", "8000") in runtime
    assert ("ENTRYPOINT", '["/opt/rlm-mcp/bin/rlm-mcp"]') in runtime and ("CMD", '["serve"]') in runtime


def test_the_build_copies_only_the_package_and_the_context_leaves_out_secrets_and_build_output():
    copies = [rest for keyword, rest in stages(DOCKERFILE.read_text())[0] if keyword == "COPY"]
    assert copies == ["Package.swift ./", "Sources ./Sources", "Tests ./Tests",
                      "scripts/build-release.sh scripts/startup-order.txt ./scripts/"]
    # The whole context goes to the engine, COPY or not: local secrets and gigabytes of .build must stay out of it.
    ignored = (REPO / ".dockerignore").read_text().split()
    for pattern in (".env", ".env.*", ".build", ".venv*", ".git", "Tests/Interop"):
        assert pattern in ignored, pattern


def test_compose_file_matches_the_compose_spec_and_the_validator_is_real(tmp_path):
    validator = venv_tool("check-jsonschema")
    ok = subprocess.run([validator, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["rlm-mcp"]["restart"] = {"policy": "sometimes"}
    broken["services"]["rlm-mcp"]["healthcheck"]["retries"] = "three"
    bad = tmp_path / "compose.yaml"
    bad.write_text(yaml.safe_dump(broken))
    refused = subprocess.run([validator, "--builtin-schema", "vendor.compose-spec", str(bad)], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0


def test_compose_service_runs_the_image_safely():
    compose = yaml.safe_load(COMPOSE.read_text())
    service = compose["services"]["rlm-mcp"]
    assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert service["env_file"] == "../.env.local"
    assert (COMPOSE.parent / service["env_file"]).resolve() == REPO / ".env.local"
    # environment wins over env_file: a copied .env.example (MCP_TRANSPORT unset) must still give an HTTP server.
    assert service["environment"] == {"MCP_TRANSPORT": "streamable-http", "MCP_HOST": "0.0.0.0", "MCP_PORT": "8000"}
    assert service["ports"] == ["127.0.0.1:${RLM_DOCKER_PORT:-8000}:8000"], "publish on the host's loopback only"
    assert service["restart"] == "unless-stopped"
    assert service["init"] is True
    assert "ALL" in service["cap_drop"] and "cap_add" not in service and service.get("privileged") is not True
    assert "no-new-privileges:true" in service["security_opt"]
    health = service["healthcheck"]
    assert health["test"][0] == "CMD" and any("/health" in part for part in health["test"])
    assert {"interval", "timeout", "retries", "start_period"} <= set(health)


def test_run_server_and_compose_agree_on_the_service_and_file():
    script = (REPO / "run_server.sh").read_text()
    assert 'compose_file="$root/deploy/compose.yaml"' in script
    assert "ps -q rlm-mcp" in script and "rlm-mcp" in yaml.safe_load(COMPOSE.read_text())["services"]
