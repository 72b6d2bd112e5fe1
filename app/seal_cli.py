"""``flask audit verify | checkpoint`` and ``flask seal init | issue | move-documents``: the trail and the seal."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app

from .db import transaction


def _platform():
    return current_app.extensions["platform"]


def register(app: Flask) -> None:
    """Attach the ``audit`` and ``seal`` command groups."""

    @app.cli.group("audit")
    def audit_group():
        """The tamper-evident audit trail (全程留痕)."""

    @audit_group.command("verify")
    @click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False),
                  help="A signed checkpoint file the chain must still carry (and reach).")
    def audit_verify(checkpoint_file: str | None):
        """Stream the chain, recompute every hash: ``OK <n> rows head=<hash>`` or the first break (exit 1)."""
        from .services.trail import audit, checkpoints
        checkpoint = None
        if checkpoint_file:
            key = checkpoints.private_key(_platform().settings.AUDIT_KEY_FILE)
            try:
                checkpoint = checkpoints.load(checkpoint_file, key.public_key())
            except checkpoints.CheckpointError as exc:
                click.echo(f"BROKEN checkpoint: {exc}")
                sys.exit(1)
        with transaction(_platform().sessions, write=False) as session:
            report = audit.verify_chain(session, checkpoint)
        click.echo(report.line())
        if not report.ok:
            sys.exit(1)

    @audit_group.command("checkpoint")
    def audit_checkpoint():
        """Sign the chain's head now and keep it in AUDIT_CHECKPOINT_DIR."""
        from .services.trail import checkpoints
        with transaction(_platform().sessions, write=False) as session:
            made = checkpoints.make(session, _platform())
        path = checkpoints.write(_platform(), made)
        click.echo(f"checkpoint seq={made['seq']} head={made['head']} written to {path}")

    @app.cli.group("seal")
    def seal_group():
        """The issuing units' seals and the signed result documents (一枚印章出件)."""

    @seal_group.command("init")
    def seal_init():
        """Demo: a provincial root CA and a seal certificate per issuing unit in SEAL_KEY_DIR (0600 keys)."""
        init_seals(_platform(), click.echo)

    @seal_group.command("issue")
    def seal_issue():
        """Render and sign the documents waiting to be issued now (the scheduler does it every few seconds)."""
        from .scheduler import SealWorker
        done = SealWorker(_platform()).tick(limit=1000)
        click.echo(f"{len(done['issued'])} document(s) issued, {len(done['failed'])} failed")
        if done["failed"]:
            sys.exit(1)

    @seal_group.command("move-documents")
    def seal_move_documents():
        """Copy the documents issued under DOCUMENT_DIR into the platform's store (HN_STORAGE_URL or HN_UPLOAD_DIR)."""
        from .services.seal import files
        with transaction(_platform().sessions) as session:
            done = files.move_legacy(session, _platform())
        click.echo(f"{len(done['moved'])} document(s) moved to {_platform().storage!r}, "
                   f"{len(done['missing'])} missing or changed under {_platform().settings.DOCUMENT_DIR}")
        for cert_id in done["missing"]:
            click.echo(f"  missing: {cert_id}")
        if done["missing"]:
            sys.exit(1)


def init_seals(platform, say) -> None:
    """``flask seal init``, also run by ``flask init-db``: seals, the audit key and the PDF font."""
    from .services.seal import certs, fonts
    from .services.trail import checkpoints
    with transaction(platform.sessions, write=False) as session:
        counts = certs.init_demo(session, platform.settings)
    checkpoints.private_key(platform.settings.AUDIT_KEY_FILE)
    say(f"seals: {counts['made']} made, {counts['kept']} kept in {platform.settings.SEAL_KEY_DIR} "
        f"(root {certs.Paths.of(platform.settings).root_cert})")
    try:
        font = fonts.subset_font(platform.settings.FONT_CACHE_DIR)
    except fonts.FontMissing as exc:
        say(f"warning: {exc}")
    else:
        say(f"PDF font: {font}")
