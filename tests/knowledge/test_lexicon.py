"""The lexicon data: it loads, jieba keeps every domain term whole, bad lines are located,
and jieba's cache lives in a directory the project owns."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from paths import ROOT

from knowledge import segment
from knowledge.errors import KnowledgeError
from knowledge.homophones import load_table
from knowledge.lexicon import LEXICON_DIR, Lexicon, load_lexicon

# Typical sentences a parent writes; {w} is the domain term.
TEMPLATES = (
    "{w}",
    "请问{w}怎么办",
    "我想了解一下{w}的情况",
    "孩子的{w}在哪里办",
    "{w}要多少钱",
    "办{w}需要带什么材料",
    "关于{w}有什么规定吗",
    "天津{w}和苏州{w}有什么不同",
)


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.fixture(scope="module")
def tok(lexicon: Lexicon) -> object:
    return segment.tokenizer(lexicon.dictionary())


def test_packaged_lexicon_loads(lexicon: Lexicon) -> None:
    words = {w.word for w in lexicon.words}
    for term in ("津心办", "出生一件事", "积分入医", "积分管理", "核定表", "居住证", "流动人口"):
        assert term in words
    assert lexicon.core_cities == {"tianjin", "suzhou"}
    assert lexicon.city_of("津心办") == "tianjin"
    assert lexicon.city_of("积分入医") == "suzhou"
    assert lexicon.city_of("深圳") == "shenzhen"
    assert lexicon.synonyms["宝宝"] == ("孩子",)


def test_every_domain_term_stays_whole(lexicon: Lexicon, tok: object) -> None:
    """A user-dictionary frequency replaces jieba's own: too low and the word splits."""
    broken = []
    for item in lexicon.words:
        for template in TEMPLATES:
            sentence = template.format(w=item.word)
            if item.word not in segment.cut(tok, sentence):
                broken.append(f"{item.word} in {sentence!r}: {segment.cut(tok, sentence)}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("天津医保", ["天津", "医保"]),  # not 天/津医保
        ("天津医保卡怎么办", ["天津", "医保卡"]),
        ("天津本地宝宝", ["天津", "本地", "宝宝"]),  # not 天津本地宝/宝
        ("苏州积分入医", ["苏州", "积分入医"]),
        ("天津居民医保", ["天津", "居民医保"]),
        ("深圳少儿医保", ["深圳", "少儿医保"]),
        ("在津医保app上备案", ["津医保", "app", "备案"]),
        ("津心办办理", ["津心办", "办理"]),
        ("出入医院", ["出入", "医院"]),  # 入医 must not eat across words
        ("要带什么材料", ["材料"]),
    ],
)
def test_domain_words_do_not_eat_their_neighbours(
    tok: object, sentence: str, expected: list[str]
) -> None:
    tokens = segment.cut(tok, sentence)
    assert all(word in tokens for word in expected), tokens


def test_a_city_inside_a_longer_word_is_still_found(lexicon: Lexicon) -> None:
    assert lexicon.city_of("苏州工业园区") == "suzhou"  # one word in jieba's dictionary
    assert lexicon.city_of("天津市") == "tianjin"
    assert lexicon.city_of("津贴") is None  # the one-character 津 only counts alone


def test_user_frequency_never_lowers_a_builtin_one(lexicon: Lexicon) -> None:
    """jieba's own dictionary, read directly: our frequency must not undercut it."""
    import jieba

    builtin: dict[str, int] = {}
    wanted = {w.word for w in lexicon.words}
    with (Path(jieba.__file__).parent / "dict.txt").open(encoding="utf-8") as handle:
        for line in handle:
            word, freq, *_ = line.split()
            if word in wanted:
                builtin[word] = int(freq)
    lowered = [w.word for w in lexicon.words if w.freq < builtin.get(w.word, 0)]
    assert not lowered


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "lexicon"
    shutil.copytree(LEXICON_DIR, target)
    return target


@pytest.mark.parametrize(
    ("file", "append", "expected"),
    [
        ("userdict.txt", "坏词 abc\n", "frequency of '坏词' must be a positive integer"),
        ("userdict.txt", "坏词 10 BAD\n", "bad part-of-speech tag"),
        ("userdict.txt", "津心办 100\n", "duplicate word '津心办'"),
        ("stopwords.txt", "两个 词\n", "one stop word per line"),
    ],
)
def test_bad_text_line_is_located(tmp_path: Path, file: str, append: str, expected: str) -> None:
    root = _copy(tmp_path)
    path = root / file
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, append.rstrip("\n")]) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_lexicon(root)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith(f"{file}:{len(lines) + 1}: ") and expected in m for m in messages), (
        messages
    )


@pytest.mark.parametrize(
    ("file", "text", "line", "expected"),
    [
        (
            "synonyms.yaml",
            "synonyms:\n  孩子: [宝宝]\n  小孩: [宝宝]\n",
            3,
            "already maps elsewhere",
        ),
        ("synonyms.yaml", "synonyms:\n  孩子: [宝宝, 孩子]\n", 2, "is its own canonical word"),
        ("synonyms.yaml", "synonyms:\n  孩子: [宝宝]\n  宝宝: [娃]\n", 2, "also a canonical word"),
        ("synonyms.yaml", "synonyms:\n  孩子: 宝宝\n", 2, "must be a list"),
        ("synonyms.yaml", "synonyms:\n  孩子: [宝宝, '']\n", 2, "non-empty text"),
        ("synonyms.yaml", "synonym:\n  孩子: [宝宝]\n", 1, "unknown section"),
        ("synonyms.yaml", "synonyms:\n  孩子: [宝宝\n", 3, "YAML syntax error"),
        ("typos.yaml", "fixes:\n  居往证: 居往证\nhomophones: [积分]\n", 2, "maps to itself"),
        ("typos.yaml", "fixes: {}\nhomophones:\n  - 积分\n  - x\n", 4, "two or more Chinese"),
        (
            "cities.yaml",
            "core: [tianjin]\ncities:\n  tianjin:\n    names: [天津, 天津]\n",
            4,
            "already belongs",
        ),
        (
            "cities.yaml",
            "core: [beijing]\ncities:\n  tianjin:\n    names: [天津]\n",
            1,
            "not listed",
        ),
        ("cities.yaml", "core: []\ncities:\n  Tianjin:\n    names: [天津]\n", 3, "lowercase"),
        ("cities.yaml", "core: []\ncities:\n  tianjin:\n    aliases: [天津]\n", 4, "unknown key"),
    ],
)
def test_bad_yaml_line_is_located(
    tmp_path: Path, file: str, text: str, line: int, expected: str
) -> None:
    root = _copy(tmp_path)
    (root / file).write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_lexicon(root)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith(f"{file}:{line}: ") and expected in m for m in messages), messages


def test_missing_file_is_reported(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "cities.yaml").unlink()
    with pytest.raises(KnowledgeError, match=r"cities\.yaml:0: file is missing"):
        load_lexicon(root)


def test_cache_dir_is_ours_not_the_shared_tmp(tok: object, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = segment.cache_dir()
    assert cache == Path(os.environ["YIBAO_CACHE_DIR"])
    assert Path(tok.tmp_dir) == cache  # type: ignore[attr-defined]
    assert Path(tok.tmp_dir) != Path(tempfile.gettempdir())  # type: ignore[attr-defined]
    assert list(cache.glob("jieba*.cache"))  # jieba's prefix-dictionary cache
    assert Path(tok.dictionary).parent == cache  # type: ignore[attr-defined]


def test_the_trimmed_dictionary_keeps_common_words_only(tok: object) -> None:
    path = Path(tok.dictionary)  # type: ignore[attr-defined]
    with path.open(encoding="utf-8") as handle:
        freqs = [int(line.split()[1]) for line in handle]
    assert len(freqs) > 100_000
    assert min(freqs) >= segment.MIN_WORD_FREQ


def test_cache_dir_defaults_to_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segment, "_configured", [])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = segment.cache_dir()
    assert path.name == "yibao"
    assert path.is_dir()
    assert str(path).startswith(str(tmp_path))


def test_homophone_table_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_table(("积分",), tmp_path)
    assert "份" in first and first["份"] & first["分"]
    assert len(list(tmp_path.glob("homophones-*.json"))) == 1

    def no_rebuild(terms: object) -> None:
        raise AssertionError("the cached table should have been used")

    monkeypatch.setattr("knowledge.homophones.build_table", no_rebuild)
    assert load_table(("积分",), tmp_path) == first


def test_cold_start_is_quiet_and_uses_our_cache(tmp_path: Path) -> None:
    """A fresh process: jieba prints nothing and writes its cache where we point it."""
    env = dict(os.environ)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from knowledge import segment\n"
        "segment.use_cache_dir(Path(sys.argv[1]))\n"
        "from knowledge.loader import load_kb\n"
        "from knowledge.matcher import Matcher\n"
        "print(Matcher(load_kb()).match('積份入醫').entry_id)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "cache")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.strip().startswith("sz.")
    assert list((tmp_path / "cache").glob("jieba*.cache"))
    assert list((tmp_path / "cache").glob("homophones-*.json"))


def test_concurrent_first_use_builds_one_tokenizer(lexicon: Lexicon) -> None:
    """The lock makes every thread wait for the one fully loaded tokenizer (add_word is
    not thread-safe, so nobody may cut while words are still being added)."""
    from concurrent.futures import ThreadPoolExecutor

    from knowledge.lexicon import DictWord

    words = (*lexicon.dictionary(), DictWord("测试专用词", 3000, None))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: segment.tokenizer(words), range(8)))
    assert len({id(tok) for tok in results}) == 1
    assert segment.cut(results[0], "这是测试专用词吗") == ["这", "是", "测试专用词", "吗"]
    del segment._tokenizers[words]


def test_an_uncreatable_cache_dir_falls_back_to_a_private_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setattr(segment, "_configured", [blocker / "cache"])
    path = segment.cache_dir()
    assert path.is_dir()
    assert path.name.startswith("yibao-cache-")
    assert path != Path(tempfile.gettempdir())
