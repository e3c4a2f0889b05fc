"""Dependencies point one way: bot -> dialogs -> knowledge. The engine never imports Telegram."""

import subprocess
import sys


def test_engine_and_knowledge_do_not_import_telegram() -> None:
    code = (
        "import sys, dialogs.engine, dialogs.stores, dialogs.flows.registry;"
        "import knowledge.loader, knowledge.matcher, knowledge.check, bot.wiring;"
        "bad=[m for m in sys.modules if m == 'telegram' or m.startswith('telegram.')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_knowledge_does_not_import_dialogs_or_bot() -> None:
    code = (
        "import sys, knowledge.loader, knowledge.matcher;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('dialogs', 'bot')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
