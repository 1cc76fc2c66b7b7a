"""The gettext catalogs: every key code uses is there and translated, placeholders
agree, broken files say where, and ``python -m sellerdesk.bot.i18n.catalog`` checks and merges."""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from sellerdesk.bot.desk.buyers import RETURN_STATUS
from sellerdesk.bot.desk.escalation import ACTORS, LABELLED_EVENTS
from sellerdesk.bot.desk.returns import FIXED_METHODS, REASONS
from sellerdesk.bot.i18n import catalog as i18n
from sellerdesk.bot.i18n.catalog import (
    LANGUAGES,
    CatalogError,
    catalog_path,
    placeholders,
    read_catalog,
)
from sellerdesk.bot.i18n.texts import pick_language, text
from sellerdesk.bot.schedule.deadlines import _UNITS
from sellerdesk.bot.settings import SettingsError, load_settings
from sellerdesk.bot.staff_chats import Problem
from sellerdesk.bot.telegram_io.commands import ADMIN_MENU, BUYER_MENU, STAFF_MENU
from sellerdesk.faq.content.hours import WEEKDAYS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")])
KEY = re.compile(r"[a-z][a-z0-9_]*")

#: Keys built at run time, by the f-string pattern code uses, and the values it
#: fills in. A new pattern in code fails the test until it is listed here.
BUILT_KEYS: dict[str, tuple[str, ...]] = {
    "unit_{}": tuple(unit for unit, _ in _UNITS),
    "return_reason_{}": REASONS,
    "return_method_{}": FIXED_METHODS,
    "return_method_{}_buyer": FIXED_METHODS,
    "cmd_{}": (*BUYER_MENU, *STAFF_MENU, *ADMIN_MENU),
    "event_{}": LABELLED_EVENTS,
    "actor_{}": ACTORS,
    "staff_chat_{}": tuple(problem.value for problem in Problem),
    "status_return_{}": tuple({"pending", *RETURN_STATUS.values()}),
    "weekday_{}": WEEKDAYS,
}


# --------------------------------------------------------------- keys used in code


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _params(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    names = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    return names[1:] if names and names[0] in ("self", "cls") else names


Owner = tuple[Path, str | None, str]  # file, class (None: a plain function), name


def _functions(
    trees: dict[Path, ast.Module],
) -> Iterator[tuple[Owner, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function with who owns it: methods by their class, the rest by file."""
    for path, tree in trees.items():
        methods: dict[ast.AST, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    methods[item] = node.name
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield (path, methods.get(node), node.name), node


def _own_nodes(func: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of functions defined inside it."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def _module_names(tree: ast.Module) -> set[str]:
    """Names a file binds to modules of the project (``from sellerdesk.bot.desk import cases``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            folder = ROOT.joinpath(*node.module.split("."))
            names |= {a.asname or a.name for a in node.names if (folder / f"{a.name}.py").is_file()}
    return names


class KeyScan:
    """Which arguments of which calls are text keys.

    ``text(key, ...)`` takes a key first; a function that passes one of its own
    parameters on as a key (``_say(..., key, ...)``, ``staff_note(..., key, ...)``,
    ``admin_card(..., reason, ...)``) takes a key there too. Found to a fixed point.
    ``self.f()`` means the method of the caller's class, ``f()`` a function of the
    same file (else an imported one), ``module.f()`` a plain function of any file.
    """

    def __init__(self, trees: dict[Path, ast.Module]) -> None:
        self.functions = list(_functions(trees))
        self.modules = {path: _module_names(tree) for path, tree in trees.items()}
        #: Owner -> {(position, parameter name)} of its key parameters.
        self.takers: dict[Owner, set[tuple[int, str]]] = {
            (Path("bot/i18n/texts.py"), None, "text"): {(0, "key")}
        }
        self._find_takers()

    def _owners(self, call: ast.Call, caller: Owner) -> list[Owner]:
        path, cls, _ = caller
        func = call.func
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and func.value.id == "self":
                return [(path, cls, func.attr)]
            if isinstance(func.value, ast.Name) and func.value.id in self.modules[path]:
                return [o for o in self.takers if o[1] is None and o[2] == func.attr]
            return []  # a method of some object (``ax.text``): not ours
        if isinstance(func, ast.Name):
            local = (path, None, func.id)
            if local in self.takers:
                return [local]
            return [o for o in self.takers if o[1] is None and o[2] == func.id]
        return []

    def key_args(self, call: ast.Call, caller: Owner) -> list[ast.expr]:
        found: list[ast.expr] = []
        for owner in self._owners(call, caller):
            for position, param in self.takers.get(owner, set()):
                keyword = next((k.value for k in call.keywords if k.arg == param), None)
                if keyword is not None:
                    found.append(keyword)
                elif position < len(call.args) and not isinstance(call.args[position], ast.Starred):
                    found.append(call.args[position])
        return found

    def calls(self) -> Iterator[tuple[Owner, ast.FunctionDef | ast.AsyncFunctionDef, ast.Call]]:
        for owner, func in self.functions:
            for node in _own_nodes(func):
                if isinstance(node, ast.Call):
                    yield owner, func, node

    def _find_takers(self) -> None:
        changed = True
        while changed:
            changed = False
            for owner, func, call in self.calls():
                params = _params(func)
                for arg in self.key_args(call, owner):
                    if isinstance(arg, ast.Name) and arg.id in params:
                        taker = (params.index(arg.id), arg.id)
                        if taker not in self.takers.setdefault(owner, set()):
                            self.takers[owner].add(taker)
                            changed = True


def _constants(node: ast.expr) -> list[str] | None:
    """The strings an expression can be: a literal, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _constants(node.body), _constants(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _assigned(func: ast.AST, name: str) -> list[str] | None:
    values: list[str] = []
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            found = _constants(node.value)
            if found is None:
                return None
            values += found
    return values or None


def _pattern(node: ast.JoinedStr) -> str:
    return "".join(
        str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
    )


def keys_used_in_code() -> tuple[set[str], list[str]]:
    """(every key the sources use, what could not be resolved: ``file:line: expr``)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in SOURCES}
    scan = KeyScan(trees)
    keys: set[str] = set()
    unresolved: list[str] = []
    for owner, func, call in scan.calls():
        params = _params(func)
        for arg in scan.key_args(call, owner):
            where = f"{owner[0].relative_to(ROOT)}:{arg.lineno}: {ast.unparse(arg)}"
            values = _constants(arg)
            if isinstance(arg, ast.JoinedStr):
                pattern = _pattern(arg)
                if pattern not in BUILT_KEYS:
                    unresolved.append(f"{where} (list the values in BUILT_KEYS)")
                    continue
                values = [pattern.replace("{}", v) for v in BUILT_KEYS[pattern]]
            elif isinstance(arg, ast.Name):
                if arg.id in params:
                    continue  # the caller's argument is checked instead
                values = _assigned(func, arg.id)
            if values is None:
                unresolved.append(where)
                continue
            keys.update(values)
    return keys, unresolved


def test_every_key_used_in_code_is_in_every_catalog_and_translated() -> None:
    keys, unresolved = keys_used_in_code()
    assert not unresolved, "keys the test cannot follow:\n" + "\n".join(unresolved)
    # The scan finds the keys of every part of the desk, not just a few.
    assert {"welcome", "card_title", "admin_missed", "sla_reminder", "unit_h"} <= keys
    assert "return_method_refund_buyer" in keys and "cmd_takeover" in keys
    assert all(KEY.fullmatch(k) for k in keys), sorted(k for k in keys if not KEY.fullmatch(k))
    for lang in LANGUAGES:
        entries = read_catalog(catalog_path(lang)).entries
        missing = sorted(keys - entries.keys())
        assert not missing, f"{lang}: missing {missing}"
        untranslated = sorted(k for k in keys if not entries[k].translated)
        assert not untranslated, f"{lang}: not translated {untranslated}"


def test_the_catalogs_pass_the_check() -> None:
    assert i18n.check() == []


def test_placeholders_are_the_same_in_every_language() -> None:
    english = read_catalog(catalog_path("en")).entries
    assert placeholders(english["welcome"].translation) == {"shop"}
    for lang in LANGUAGES:
        for key, entry in read_catalog(catalog_path(lang)).entries.items():
            assert placeholders(entry.translation) == placeholders(english[key].english), (
                lang,
                key,
            )


def test_po_files_parse_with_babel_without_errors() -> None:
    paths = [i18n.template_path(), *(catalog_path(lang) for lang in LANGUAGES)]
    for path in paths:
        with path.open("rb") as handle:
            catalog = read_po(handle, abort_invalid=True)
        assert len(catalog) > 150, path
        assert all(m.context for m in catalog if m.id), path


# ------------------------------------------------------------------------ text()


def test_text_fills_values_in_the_language_asked() -> None:
    assert text("card_title", "ru", number="7") == "Обращение №7"
    assert text("card_title", "zh", number="7") == "工单 #7"
    assert text("welcome", "en", shop="Lotus") == (
        "Hello! This is Lotus support. Ask a question about a product or an order."
    )


def test_text_falls_back_to_english_for_an_unknown_language() -> None:
    assert text("card_title", "de", number="7") == "Case #7"
    assert text("card_title", pick_language("de-DE"), number="7") == "Case #7"


def test_unknown_key_says_where_texts_live() -> None:
    with pytest.raises(KeyError, match=r"no_such_key.*bot/i18n/locales"):
        text("no_such_key", "ru")


def test_empty_or_fuzzy_translation_shows_english(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    ru = catalog_path("ru", locales)
    body = ru.read_text(encoding="utf-8")
    body = body.replace('msgstr "Обращение №{number}"', 'msgstr ""')
    body = body.replace('msgctxt "card_buyer"', '#, fuzzy\nmsgctxt "card_buyer"')
    ru.write_text(body, encoding="utf-8")
    texts = i18n.load_texts(locales)
    assert texts["ru"]["card_title"] == "Case #{number}"
    assert texts["ru"]["card_buyer"] == "Buyer"
    assert texts["ru"]["card_shop"] == "Магазин"


# ------------------------------------------------------------------ broken files


def _copy_locales(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, target)
    return target


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def test_broken_entry_names_the_file_and_line(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    zh = catalog_path("zh", locales)
    body = zh.read_text(encoding="utf-8")
    zh.write_text(body.replace('msgctxt "card_shop"', 'msgctx "card_shop"'), encoding="utf-8")
    line = _line_of(zh, 'msgctx "card_shop"')
    with pytest.raises(CatalogError) as caught:
        i18n.load_texts(locales)
    assert str(caught.value).startswith(f"{zh}:{line}: ")
    assert "msgctx" in str(caught.value)


def test_entry_without_msgctxt_or_with_a_repeated_one_is_an_error(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    en = catalog_path("en", locales)
    body = en.read_text(encoding="utf-8")
    en.write_text(body + '\nmsgid "Orphan"\nmsgstr "Orphan"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"sellerdesk\.po:\d+: entry 'Orphan' has no msgctxt"):
        read_catalog(en)
    en.write_text(body + '\nmsgctxt "welcome"\nmsgid "Hi"\nmsgstr "Hi"\n', encoding="utf-8")
    first = _line_of(en, 'msgctxt "welcome"')
    with pytest.raises(
        CatalogError, match=rf"msgctxt 'welcome' appears twice \(first at line {first}\)"
    ):
        read_catalog(en)


def test_missing_catalog_is_an_error_naming_it(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    catalog_path("ru", locales).unlink()
    with pytest.raises(CatalogError, match=r"ru/LC_MESSAGES/sellerdesk\.po: cannot read"):
        i18n.load_texts(locales)


# ----------------------------------------------------------------- check, extract


def test_check_reports_placeholders_untranslated_and_missing(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    ru, zh = catalog_path("ru", locales), catalog_path("zh", locales)
    body = ru.read_text(encoding="utf-8")
    body = body.replace('msgstr "Обращение №{number}"', 'msgstr "Обращение №{num}"')
    body = body.replace('msgstr "Магазин"', 'msgstr ""')
    ru.write_text(body, encoding="utf-8")
    body = zh.read_text(encoding="utf-8")
    start = body.index('#. staff\nmsgctxt "card_buyer"')
    zh.write_text(body[:start] + body[body.index("\n\n", start) + 2 :], encoding="utf-8")
    problems = i18n.check(locales)
    line = _line_of(ru, 'msgctxt "card_title"')
    assert f"{ru}:{line}: card_title: placeholders {{num}}, the English text has {{number}}" in (
        problems
    )
    assert any(p.startswith(f"{ru}:") and "card_shop: not translated" in p for p in problems)
    assert (
        f"{zh}: card_buyer: missing (run `python -m sellerdesk.bot.i18n.catalog extract`)"
        in problems
    )
    assert i18n.main(["check", "--locales", str(locales)]) == 1


def test_extract_adds_new_keys_fuzzy_and_keeps_changed_translations(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    en = catalog_path("en", locales)
    body = en.read_text(encoding="utf-8")
    body = body.replace(
        'msgid "Case #{number}"\nmsgstr "Case #{number}"',
        'msgid "Case #{number}"\nmsgstr "Case no. {number}"',
    )
    body += '\n#. staff\nmsgctxt "card_new_line"\nmsgid "New line"\nmsgstr "New line"\n'
    en.write_text(body, encoding="utf-8")

    assert i18n.main(["extract", "--locales", str(locales)]) == 0

    template = read_catalog(i18n.template_path(locales)).entries
    assert template["card_title"].english == "Case no. {number}"
    assert template["card_new_line"].translation == ""
    english = read_catalog(en).entries["card_title"]
    assert (english.english, english.translation) == ("Case no. {number}", "Case no. {number}")
    for lang in ("ru", "zh"):
        entries = read_catalog(catalog_path(lang, locales)).entries
        new = entries["card_new_line"]
        assert (new.translation, new.fuzzy, new.group) == ("", True, "staff")
        changed = entries["card_title"]
        assert changed.fuzzy and changed.english == "Case no. {number}"
        assert changed.previous_english == "Case #{number}"
        assert changed.translation  # the old translation is kept for review
    assert i18n.load_texts(locales)["ru"]["card_title"] == "Case no. {number}"
    problems = i18n.check(locales)
    assert any("card_new_line: not translated" in p for p in problems)
    assert any("card_title: fuzzy" in p for p in problems)


def test_extract_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    i18n.extract(locales)
    before = {p: p.read_bytes() for p in locales.rglob("*.po*")}
    assert len(before) == 4
    i18n.extract(locales)
    assert {p: p.read_bytes() for p in locales.rglob("*.po*")} == before


def test_catalog_entries_are_grouped_and_sorted() -> None:
    entries = list(read_catalog(catalog_path("en")).entries.values())
    assert all(e.group in i18n.GROUPS for e in entries), {e.group for e in entries}
    order = [i18n.group_order(e) for e in sorted(entries, key=lambda e: e.lineno)]
    assert order == sorted(order)


# ---------------------------------------------------------------- ADMIN_LANGUAGE


def test_admin_language_setting(tmp_path: Path) -> None:
    none = tmp_path / "none"
    assert load_settings({}, env_file=none).admin_language == "ru"
    assert load_settings({"ADMIN_LANGUAGE": "zh"}, env_file=none).admin_language == "zh"
    assert load_settings({"ADMIN_LANGUAGE": " EN "}, env_file=none).admin_language == "en"
    with pytest.raises(SettingsError, match="ADMIN_LANGUAGE must be one of ru, en, zh, not 'de'"):
        load_settings({"ADMIN_LANGUAGE": "de"}, env_file=none)


def test_every_admin_chat_text_has_three_languages() -> None:
    entries = {lang: read_catalog(catalog_path(lang)).entries for lang in LANGUAGES}
    admin_keys = [k for k, e in entries["en"].items() if e.group == "admin chat"]
    assert len(admin_keys) >= 12
    for key in admin_keys:
        values = {lang: entries[lang][key].translation for lang in LANGUAGES}
        assert all(values.values()), (key, values)
        if key != "topic_closed_mark":
            assert len(set(values.values())) == 3, (key, values)
