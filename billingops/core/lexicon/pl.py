"""Polish cues: signal -> entries (conventions in `billingops.core.lexicon`)."""

from __future__ import annotations

# Words that turn a refund or cancel ask around when they come just before it.
NEGATION: str | None = r"(?:nie|bez)\b(?:\W+\w+){0,3}\W+$"

# The customer's own business, project or plans: a failure word right after one of
# these is about the customer, not the product ("our launch failed").
OWN_AFFAIRS: tuple[str, ...] = (
    r"start-?up\w*",
    "firma",
    "firmy",
    "biznes",
    "działalność",
    "sklep",
    "restauracj",
    "agencj",
    "projekt",
    "start produktu",
    "premiera",
    "kampani",
    "finansowani",
    "sprzedaż",
    "przychod",
    r"plany\b",
    "pomysł",
    r"pilotaż",
    "małżeństw",
    "egzamin",
    "budżet",
)

CUES: dict[str, tuple[str, ...]] = {
    "refund": ("zwrot", "zwróć", "zwrócić", "zwrócenie", "oddać pieniądze", "oddajcie", "zwrócili"),
    "cancel": (
        "anulow",
        "anuluj",
        "zrezygnow",
        "rezygnac",
        "wypowiedz",
        "wypowiedzieć",
        "zakończ _ subskrypcj",
        "usunąć konto",
    ),
    "after_cancel": (
        "po anulowaniu",
        "już anulował",
        "mimo anulowania",
        "mimo rezygnacji",
        "po rezygnacji",
        "anulowałem",
        "anulowałam",
        "zrezygnowałem",
        "zrezygnowałam",
    ),
    "charged": ("pobral", "pobrano", "obciąż", "odnowi", "zapłaci", "opłat"),
    "surprise": (
        "bez ostrzeżenia",
        "bez uprzedzenia",
        "bez powiadomienia",
        "automatycznie odnowi",
        "nieoczekiwan",
        "niespodziewan",
        "bez mojej zgody",
        "bez zgody",
    ),
    "broken": (
        "nie działa",
        "awari",
        "błąd",
        "nie mogę się zalogować",
        r"\bpadł",
        "niedostępn",
        "nie da się",
        "przestał działać",
        "bezużyteczn",
        "zawiesza",
    ),
    "duplicate": (
        "dwa razy",
        "podwójn",
        "dwukrotnie",
        "dwie subskrypcje",
        "zduplikowan",
        "dwie płatności",
        "dwa obciążenia",
        "2 razy",
    ),
    "invoices": ("faktur", "paragon", r"\bvat\b", "rachun"),
    "card": (
        "(?:zmienić|zmiana|zaktualizować|aktualizacja) _ (?:kart|metod[yę] płatności)",
        "(?:now[aąe]|inn[aąe]) kart",
        "karta _ wygasł",
    ),
    "seats": (
        "licencj",
        "stanowisk",
        "(?:zmienić|zmiana) _ plan",
        "dodać _ użytkownik",
        "upgrade",
        "downgrade",
        "plan roczny",
        "pakiet",
    ),
    "team": (
        r"(?:licencj\w*|stanowisk\w*) dla",
        "na użytkownika",
        "plan zespołowy",
        r"(?:kupił\w*|wykupił\w*|zamówił\w*|dodał\w*|założył\w*) _ dla (?:mojego|mojej|naszego|naszej|nowego|nowej) _ ?(?:kolegi|koleżanki|pracownik|zespołu|współpracownik|żony|męża|asystent|stażyst)",  # noqa: E501 (one regular expression)
        "dla (?:kolegi|koleżanki|pracownika|żony|męża) z ",
        "dla każdego członka",
        "dla każdego z nas",
    ),
    "others": ("kolega", "koleżank", "zespół", "zespoł", "księgow", "szef", "pracowni"),
    "confused": ("nie rozumiem", "dlaczego", "więcej niż zwykle"),
}
