"""Dutch cues: signal -> entries (conventions in `billingops.core.lexicon`)."""

from __future__ import annotations

# Words that turn a refund or cancel ask around when they come just before it.
NEGATION: str | None = r"(?:geen|niet|nooit|zonder)\b(?:\W+\w+){0,3}\W+$"

# The customer's own business, project or plans: a failure word right after one of
# these is about the customer, not the product ("our launch failed").
OWN_AFFAIRS: tuple[str, ...] = (
    r"start-?ups?\b",
    "bedrijf",
    "onderneming",
    "zaak",
    "winkel",
    "restaurant",
    "bureau",
    "project",
    "lancering",
    "campagne",
    "financiering",
    "funding",
    "omzet",
    "verkoop",
    r"plannen\b",
    r"idee\b",
    r"pilot\b",
    "huwelijk",
    "examen",
    r"budget\b",
)

CUES: dict[str, tuple[str, ...]] = {
    "refund": (
        "terugbetal",
        "terugstort",
        "geld _ terug",
        "restitutie",
        "terugboek",
        "terug te storten",
        "terugkrijgen",
    ),
    "cancel": (
        "opzeg",
        "opgezegd",
        "annuleer",
        "annulering",
        "stopzetten",
        "beëindig",
        r"zeg _ op\b",
    ),
    "after_cancel": (
        "na het opzeggen",
        "al opgezegd",
        "had opgezegd",
        "heb opgezegd",
        "ondanks mijn opzegging",
        "na opzegging",
        "terwijl ik _ opgezegd",
    ),
    "charged": ("afgeschreven", "afschrijving", "gefactureerd", "verlengd", "betaald"),
    "surprise": (
        "zonder waarschuwing",
        "zonder bericht",
        "zonder aankondiging",
        "automatisch verlengd",
        "onverwacht",
        "verrass",
        "zonder toestemming",
    ),
    "broken": (
        "werkt niet",
        "storing",
        "kapot",
        "lag plat",
        "ligt plat",
        "onbereikbaar",
        "kan niet inloggen",
        "crasht",
        "foutmelding",
        "onbruikbaar",
        "werkt _ niet",
        "doet het niet",
    ),
    "duplicate": (
        "twee keer",
        "dubbel",
        "tweemaal",
        "twee abonnementen",
        "twee afschrijvingen",
        "2 keer",
    ),
    "invoices": (r"factu(?:u)?r(?:en)?\b", "kwitantie", r"\bbtw\b", r"\bbonnetje"),
    "card": (
        "(?:wijzigen|aanpassen|bijwerken|veranderen) _ (?:kaart|creditcard|betaalmethode)",
        "(?:kaart|creditcard|betaalmethode) _ (?:wijzigen|aanpassen|bijwerken|veranderen|verlopen)",
        "(?:nieuwe|andere) (?:kaart|creditcard)",
    ),
    "seats": (
        r"licenties?\b",
        "(?:abonnement|plan) _ (?:wijzigen|aanpassen|veranderen)",
        "(?:ander|groter|kleiner) (?:abonnement|plan)",
        "gebruikers _ toevoegen",
        "upgraden",
        "downgraden",
        "upgrade",
        "downgrade",
        "jaarabonnement",
    ),
    "team": (
        "licenties? voor",
        "per gebruiker",
        "teamabonnement",
        "team-abonnement",
        "(?:gekocht|afgesloten|besteld|toegevoegd|aangemaakt|genomen) _ voor (?:mijn|onze|ons|een) (?:nieuwe )?(?:collega|medewerker|team|partner|vrouw|man|stagiair|assistent)",  # noqa: E501 (one regular expression)
        "voor (?:mijn|onze|een) (?:nieuwe )?(?:collega|medewerker|stagiair|assistent) _ (?:gekocht|afgesloten|besteld|toegevoegd|aangemaakt|genomen)",  # noqa: E501 (one regular expression)
        "voor elke medewerker",
        "voor ieder van ons",
    ),
    "others": ("collega", r"\bteam\b", "boekhoud", "baas", "medewerker"),
    "confused": (
        "begrijp niet",
        "snap niet",
        "waarom (?:is|heb|betal|kost|wordt|moet)",
        "meer dan normaal",
    ),
}
