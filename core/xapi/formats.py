"""The `format` parameter of GET statements: `exact`, `ids`, `canonical` (Communication 2.1.3).

Each function takes a stored Statement as a plain JSON dict and returns a new dict; the input is
never modified. `exact` returns the Statement unchanged, so it needs no function.
"""

from __future__ import annotations

from typing import Any

_IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")


# --- ids -----------------------------------------------------------------------------------


def to_ids_format(stmt: dict[str, Any]) -> dict[str, Any]:
    """Agents, Groups, Activities and Verbs reduced to what identifies them."""
    out = dict(stmt)
    if "actor" in out:
        out["actor"] = ids_actor(out["actor"])
    if "authority" in out:
        out["authority"] = ids_actor(out["authority"])
    if "verb" in out:
        out["verb"] = ids_verb(out["verb"])
    if "object" in out:
        out["object"] = ids_object(out["object"])
    if "context" in out:
        out["context"] = ids_context(out["context"])
    return out


def ids_actor(actor: Any) -> Any:
    """An Agent or identified Group as objectType + IFI; an anonymous Group as its members."""
    if not isinstance(actor, dict):
        return actor
    out = {key: actor[key] for key in _IFI_KEYS if key in actor}
    if "objectType" in actor:
        out["objectType"] = actor["objectType"]
    if not out.keys() & set(_IFI_KEYS) and isinstance(actor.get("member"), list):
        out["member"] = [ids_actor(member) for member in actor["member"]]
    return out


def ids_verb(verb: Any) -> Any:
    return {"id": verb["id"]} if isinstance(verb, dict) and "id" in verb else verb


def ids_activity(activity: Any) -> Any:
    """Its id alone: objectType "Activity" is the default, so it identifies nothing."""
    if not isinstance(activity, dict):
        return activity
    return {"id": activity.get("id")}


def ids_object(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        return ids_activity(obj)
    if object_type in ("Agent", "Group"):
        return ids_actor(obj)
    if object_type == "SubStatement":
        return to_ids_format(obj)
    return obj


def ids_context(context: Any) -> Any:
    if not isinstance(context, dict):
        return context
    out = dict(context)
    for key in ("instructor", "team"):
        if key in out:
            out[key] = ids_actor(out[key])
    activities = out.get("contextActivities")
    if isinstance(activities, dict):
        out["contextActivities"] = {
            key: [ids_activity(a) for a in value]
            if isinstance(value, list)
            else ids_activity(value)
            for key, value in activities.items()
        }
    for name, inner in (("contextAgents", "agent"), ("contextGroups", "group")):
        if isinstance(out.get(name), list):
            out[name] = [
                {**entry, inner: ids_actor(entry.get(inner))} if isinstance(entry, dict) else entry
                for entry in out[name]
            ]
    return out


# --- canonical ------------------------------------------------------------------------------


def to_canonical_format(stmt: dict[str, Any], accept_languages: list[str]) -> dict[str, Any]:
    """Every Verb display and Activity Definition language map reduced to its best language.

    `accept_languages` is `parse_accept_language(header)`: language ranges, best first.
    """
    out = dict(stmt)
    if isinstance(out.get("verb"), dict) and isinstance(out["verb"].get("display"), dict):
        out["verb"] = {
            **out["verb"],
            "display": pick_language(out["verb"]["display"], accept_languages),
        }
    if "object" in out:
        out["object"] = _canonical_object(out["object"], accept_languages)
    context = out.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        out["context"] = {
            **context,
            "contextActivities": {
                key: [_canonical_activity(a, accept_languages) for a in value]
                if isinstance(value, list)
                else _canonical_activity(value, accept_languages)
                for key, value in context["contextActivities"].items()
            },
        }
    return out


def _canonical_object(obj: Any, languages: list[str]) -> Any:
    if not isinstance(obj, dict):
        return obj
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        return _canonical_activity(obj, languages)
    if object_type == "SubStatement":
        return to_canonical_format(obj, languages)
    return obj


def _canonical_activity(activity: Any, languages: list[str]) -> Any:
    if not isinstance(activity, dict) or not isinstance(activity.get("definition"), dict):
        return activity
    definition = dict(activity["definition"])
    for key in ("name", "description"):
        if isinstance(definition.get(key), dict):
            definition[key] = pick_language(definition[key], languages)
    for key in ("choices", "scale", "source", "target", "steps"):
        if isinstance(definition.get(key), list):
            definition[key] = [
                {**c, "description": pick_language(c["description"], languages)}
                if isinstance(c, dict) and isinstance(c.get("description"), dict)
                else c
                for c in definition[key]
            ]
    return {**activity, "definition": definition}


def pick_language(language_map: dict[str, str], languages: list[str]) -> dict[str, str]:
    """The one entry of `language_map` that best matches the ranges (RFC 2616 section 14.4).

    A range matches a tag equal to it or a tag it is a prefix of, followed by "-"; "*" matches
    anything. With no match, the first entry is returned.
    """
    if len(language_map) <= 1:
        return dict(language_map)
    lowered = {tag.lower(): tag for tag in language_map}
    for language_range in languages:
        wanted = language_range.lower()
        if wanted == "*":
            break
        if wanted in lowered:
            tag = lowered[wanted]
            return {tag: language_map[tag]}
        for low, tag in lowered.items():
            if low.startswith(wanted + "-"):
                return {tag: language_map[tag]}
    tag = next(iter(language_map))
    return {tag: language_map[tag]}


def parse_accept_language(header: str | None) -> list[str]:
    """The language ranges of an Accept-Language header, best first; q=0 ranges are dropped."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        language_range, _, params = part.strip().partition(";")
        language_range = language_range.strip()
        if not language_range:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0 < quality <= 1:
            ranked.append((-quality, position, language_range))
    return [language_range for _, _, language_range in sorted(ranked)]
