"""`supalink config extension`: the Claude Desktop Extension (`.mcpb`) checked by the real
`@anthropic-ai/mcpb` CLI from npm (`unpack`, `validate`, `info`), its command computed by that
package's own `getMcpConfigForManifest` (the code that turns a manifest and the person's
settings into the server a host starts), and that command started through the MCP SDK's
stdio client against the real SSL PostgreSQL, the password in the real Secret Service.

The npm package is installed once into a cache shared across runs (about 4 s the first time);
without Node, npm or the registry the tests fail and say so.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from supalink.agent import ServeOptions, tool_specs
from supalink.paths import HOME_OVERRIDE_ENV
from tests.support.cli import SUPALINK, run_cli
from tests.support.postgres import PostgresServer
from tests.support.profiles import save_profile
from tests.support.reference_server import CACHE_ENV, ensure_node
from tests.support.secret_service import SecretService
from tests.support.system_tools import machine_setup

BUILD_STEP = Path(__file__).resolve().parents[2] / "packaging" / "build-extension.sh"
MCPB_PACKAGE = "@anthropic-ai/mcpb"
MCPB_VERSION = "2.1.2"  # pinned: a test must not change with the registry's latest
# The host's side: a manifest and the settings in, the command, args and env out.
HOST_CONFIG = """
const [configJs, manifestPath, extensionPath, cases] = process.argv.slice(1);
const { getMcpConfigForManifest } = await import(configJs);
const { readFileSync } = await import("node:fs");
const manifest = JSON.parse(readFileSync(manifestPath, "utf-8"));
const found = [];
for (const [platform, home, userConfig] of JSON.parse(cases)) {
  Object.defineProperty(process, "platform", { value: platform });
  const config = await getMcpConfigForManifest({
    manifest,
    extensionPath,
    systemDirs: { HOME: home },
    userConfig,
    pathSeparator: platform === "win32" ? "\\\\" : "/",
  });
  found.push(config ?? null);
}
process.stdout.write(JSON.stringify(found));
"""


@dataclass(frozen=True)
class Mcpb:
    """The npm package, installed in `root`."""

    root: Path

    @property
    def package(self) -> Path:
        return self.root / "node_modules" / "@anthropic-ai" / "mcpb"

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.root / "node_modules" / ".bin" / "mcpb"), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def host_configs(self, extension: Path, *cases: tuple[str, str, dict[str, Any]]) -> Any:
        """What a host starts for the unpacked `extension`, for each (platform, home,
        the person's settings): one Node process for them all."""
        found = subprocess.run(
            [
                "node",
                "--input-type=module",
                "-e",
                HOST_CONFIG,
                "--",
                str(self.package / "dist" / "shared" / "config.js"),
                str(extension / "manifest.json"),
                str(extension),
                json.dumps(cases),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(found.stdout)


def _installed(root: Path) -> bool:
    try:
        found = json.loads((root / "node_modules/@anthropic-ai/mcpb/package.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(found.get("version") == MCPB_VERSION)


@pytest.fixture(scope="session")
def mcpb() -> Mcpb:
    npm_cache = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache/supalink-tests/npm")
    root = npm_cache.parent / f"mcpb-{MCPB_VERSION}"
    with machine_setup():
        if not _installed(root):
            ensure_node()
            root.mkdir(parents=True, exist_ok=True)
            spec = f"{MCPB_PACKAGE}@{MCPB_VERSION}"
            installed = subprocess.run(
                ["npm", "install", "--prefix", str(root), "--no-audit", "--no-fund", spec],
                env={**os.environ, "npm_config_cache": str(npm_cache)},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if not _installed(root):
                pytest.fail(
                    f"could not install {spec} from npm into {root} (the registry must be "
                    f"reachable once):\n{installed.stdout}{installed.stderr}"
                )
    return Mcpb(root)


def unpacked(mcpb: Mcpb, bundle: Path, into: Path) -> Path:
    """The bundle unpacked by `mcpb unpack`, as a host unpacks it, and validated there."""
    done = mcpb.run("unpack", bundle, into)
    assert done.returncode == 0, done.stdout + done.stderr
    checked = mcpb.run("validate", into)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Manifest schema validation passes!" in checked.stdout
    return into


def bundle_texts(bundle: Path) -> list[bytes]:
    """The file's bytes and each member's, uncompressed."""
    data = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as archive:
        return [data, *(archive.read(name) for name in archive.namelist())]


@pytest.mark.slow
def test_the_release_bundle_passes_mcpb_and_names_the_installed_app_on_each_os(
    tmp_path: Path, mcpb: Mcpb
) -> None:
    """Built by packaging's own step, with this install's `supalink` for the frozen app."""
    bundle = tmp_path / "out" / "supalink.mcpb"
    written = subprocess.run(
        [str(BUILD_STEP), SUPALINK, str(bundle)], capture_output=True, text=True, check=False
    )
    assert written.returncode == 0, written.stdout + written.stderr
    info = mcpb.run("info", bundle)
    assert info.returncode == 0, info.stdout + info.stderr
    assert "File: supalink.mcpb" in info.stdout
    extension = unpacked(mcpb, bundle, tmp_path / "unpacked")
    manifest = json.loads((extension / "manifest.json").read_text())
    assert manifest["server"]["type"] == "binary"
    assert manifest["compatibility"]["platforms"] == ["darwin", "win32", "linux"]
    # No setting is sensitive: the password stays in Supalink's keyring entry.
    assert list(manifest["user_config"]) == ["profile"]
    assert "sensitive" not in manifest["user_config"]["profile"]
    assert "default" not in manifest["user_config"]["profile"]
    settings = {"profile": "team db"}
    expected = {
        "linux": ("/home/u", "/opt/supalink/supalink"),
        "darwin": ("/Users/u", "/Applications/Supalink.app/Contents/MacOS/supalink"),
        "win32": (
            "C:\\Users\\u",
            "C:\\Users\\u\\AppData\\Local\\Programs\\Supalink\\supalink-cli.exe",
        ),
    }
    cases = [(platform, home, settings) for platform, (home, _) in expected.items()]
    # Without the profile's name a host starts nothing (the setting is required).
    *configs, unnamed = mcpb.host_configs(extension, *cases, ("linux", "/home/u", {}))
    for (platform, (_, command)), config in zip(expected.items(), configs, strict=True):
        assert config["command"] == command, platform
        assert config["args"] == ["mcp-serve", "--profile", "team db"], platform
    assert unnamed is None


def test_the_same_bundle_is_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.mcpb", tmp_path / "b.mcpb"
    for path in (first, second):
        done = run_cli("config", "extension", "--release", "--output", str(path), text=True)
        assert done.returncode == 0, done.stderr
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["icon.png", "manifest.json"]
        assert archive.read("icon.png").startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.slow
def test_a_profile_bundle_starts_the_server_exactly_as_its_manifest_says(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer, mcpb: Mcpb
) -> None:
    home = tmp_path / "home"
    name = save_profile(home, pg)
    written = run_cli("config", "extension", "--profile", name, home=home, cwd=tmp_path, text=True)
    assert written.returncode == 0, written.stderr
    bundle = tmp_path / f"Supalink-{name}.mcpb"
    assert bundle.is_file(), written.stdout
    assert not any(pg.password.encode() in text for text in bundle_texts(bundle))
    assert mcpb.run("info", bundle).returncode == 0
    extension = unpacked(mcpb, bundle, tmp_path / "unpacked")
    manifest = json.loads((extension / "manifest.json").read_text())
    assert manifest["name"] == f"supalink-{name}"
    assert manifest["user_config"]["profile"]["default"] == name
    # The settings as the install dialog leaves them: the offered profile, untouched.
    [config] = mcpb.host_configs(extension, ("linux", str(Path.home()), {}))
    assert config["command"] == SUPALINK  # this install, by absolute path
    assert config["args"] == ["mcp-serve", "--profile", name]
    assert config["env"] == {HOME_OVERRIDE_ENV: str(home)}
    assert pg.password not in json.dumps(config)

    # The client's environment without this test's SUPALINK_HOME: the manifest brings it.
    env = {key: value for key, value in os.environ.items() if key != HOME_OVERRIDE_ENV}
    listing, answer = asyncio.run(_serve(config, {**env, **config["env"]}))
    specs = {spec.name: spec for spec in tool_specs(ServeOptions())}
    assert [tool["name"] for tool in manifest["tools"]] == list(specs)
    meta = {tool["name"]: tool for tool in manifest["_meta"]["io.github.supalink"]["tools"]}
    for tool in listing:
        assert tool["title"] == specs[tool["name"]].title == meta[tool["name"]]["title"]
        annotations = {
            key: value for key, value in tool["annotations"].items() if value is not None
        }
        assert annotations == meta[tool["name"]]["annotations"]
        assert annotations["readOnlyHint"] is True
        assert annotations["destructiveHint"] is False
    assert {tool["name"] for tool in listing} == set(specs)
    assert answer == [{"one": 1}]


async def _serve(config: dict[str, Any], env: dict[str, str]) -> tuple[list[Any], Any]:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=config["command"], args=config["args"], env=env)
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = (await session.list_tools()).tools
            listing = [tool.model_dump(by_alias=True) for tool in tools]
            result = await session.call_tool("query", {"sql": "select 1 as one"})
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    assert not result.is_error, text
    match = re.search(r"<(untrusted-data-[0-9a-f]{32})>\n(.*)\n</\1>", text, re.DOTALL)
    assert match, text
    rows = json.loads(match.group(2))
    return listing, [dict(zip(rows["columns"], row, strict=True)) for row in rows["rows"]]


def test_a_profile_without_its_password_in_the_keyring_gets_no_bundle(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer
) -> None:
    name = save_profile(tmp_path, pg, with_password=False)
    output = tmp_path / "x.mcpb"
    refused = run_cli(
        "config", "extension", "--profile", name, "--output", str(output), home=tmp_path, text=True
    )
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert "has no password in the keyring" in refused.stderr
    assert not output.exists()
    unknown = run_cli("config", "extension", "--profile", "nobody", home=tmp_path, text=True)
    assert unknown.returncode == 2  # as every command says of a name it does not know
    assert "Traceback" not in unknown.stderr
    assert "nobody" in unknown.stderr


def test_usage_errors_exit_2_and_a_file_that_cannot_be_written_is_one_sentence(
    tmp_path: Path,
) -> None:
    neither = run_cli("config", "extension", home=tmp_path, text=True)
    assert neither.returncode == 2
    both = run_cli("config", "extension", "--release", "--profile", "p", home=tmp_path, text=True)
    assert both.returncode == 2
    to_stdout = run_cli("config", "extension", "--release", "--output", "-", text=True)
    assert to_stdout.returncode == 2
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = blocker / "supalink.mcpb"
    failed = run_cli("config", "extension", "--release", "--output", str(target), text=True)
    assert failed.returncode == 1
    assert failed.stderr.strip().endswith("a part of its path is a file, not a folder")
    assert failed.stderr.count("\n") == 1
    assert "Traceback" not in failed.stderr
    folder = run_cli("config", "extension", "--release", "--output", str(tmp_path), text=True)
    assert folder.returncode == 1
    assert folder.stderr.strip().endswith("it is a folder, not a file"), folder.stderr


@pytest.mark.parametrize("allow_writes", [False, True])
def test_every_tool_has_what_the_extension_directory_asks(allow_writes: bool) -> None:
    """A title, and readOnlyHint or destructiveHint, on every tool (the server lists these;
    the slow test above reads them back through the SDK client)."""
    specs = tool_specs(ServeOptions(allow_writes=allow_writes))
    assert all(spec.title.strip() for spec in specs)
    assert len({spec.title for spec in specs}) == len(specs)
    for spec in specs:
        hints = spec.annotations
        assert hints["readOnlyHint"] is not hints["destructiveHint"], spec.name
    query = next(spec for spec in specs if spec.name == "query")
    assert query.annotations["destructiveHint"] is allow_writes
