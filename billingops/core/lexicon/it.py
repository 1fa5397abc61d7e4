"""Italian cues: signal -> entries (conventions in `billingops.core.lexicon`)."""

from __future__ import annotations

# Words that turn a refund or cancel ask around when they come just before it.
NEGATION: str | None = r"(?:non|senza|mai)\b(?:\W+\w+){0,3}\W+$"

# The customer's own business, project or plans: a failure word right after one of
# these is about the customer, not the product ("our launch failed").
OWN_AFFAIRS: tuple[str, ...] = (
    r"start-?ups?\b",
    "azienda",
    "società",
    r"ditta\b",
    "attività",
    r"negozio\b",
    "ristorante",
    "agenzia",
    "progetto",
    r"lancio\b",
    "campagna",
    "finanziamento",
    "fatturato",
    "vendite",
    r"piani\b",
    r"idea\b",
    r"pilota\b",
    "matrimonio",
    "esame",
    r"budget\b",
)

CUES: dict[str, tuple[str, ...]] = {
    "refund": (
        "rimbors",
        "restituzione",
        "restituite",
        "restituire",
        "riavere i soldi",
        "soldi indietro",
        "storno",
    ),
    "cancel": (
        "disdi",
        "disdett",
        "annull",
        "cancellare _ abbonamento",
        "cancellazione",
        "disattiva",
    ),
    "after_cancel": (
        "dopo aver disdetto",
        "dopo aver annullato",
        "avevo già disdetto",
        "avevo già annullato",
        "nonostante la disdetta",
        "ho disdetto",
        "ho annullato",
        "dopo la disdetta",
        "già disdetto",
    ),
    "charged": ("addebit", "prelev", "rinnov", "pagato"),
    "surprise": (
        "senza preavviso",
        "senza avviso",
        "rinnovato automaticamente",
        "rinnovo automatico",
        "inaspettat",
        "sorpresa",
        "senza autorizzazione",
        "a mia insaputa",
    ),
    "broken": (
        "non funziona",
        r"non va\b",
        "disservizio",
        "guasto",
        "errore",
        "bloccat",
        "non riesco ad accedere",
        "non riesco a entrare",
        "inutilizzabil",
        r"down\b",
        "in tilt",
        "smesso di funzionare",
    ),
    "duplicate": (
        "due volte",
        "doppi",
        "duplicat",
        "due abbonamenti",
        "due addebiti",
        "addebitato due",
    ),
    "invoices": (r"fattur[ae]\b", r"ricevut[ae]\b", "partita iva", r"\biva\b"),
    "card": (
        "(?:cambiare|aggiornare|modificare|sostituire) _ (?:carta|metodo di pagamento)",
        "(?:nuova|altra) carta",
        "carta _ scadut",
    ),
    "seats": (
        r"licenz[ae]\b",
        r"postazion[ie]\b",
        "(?:cambiare|passare) _ piano",
        "(?:aggiungere|rimuovere) _ utenti",
        "upgrade",
        "downgrade",
        "piano annuale",
    ),
    "team": (
        "(?:licenz[ae]|postazion[ie]) per",
        "per utente",
        "piano team",
        "(?:comprato|acquistato|preso|sottoscritto|aggiunto|attivato|creato) _ per (?:il mio|la mia|un|una|il nostro|la nostra|mio|mia) (?:nuov[oa] )?(?:collega|dipendente|team|socio|moglie|marito|assistente|stagista)",  # noqa: E501 (one regular expression)
        "per ogni membro",
        "per ciascuno di noi",
    ),
    "others": ("collega", "colleghi", r"\bteam\b", "commercialista", "capo", "dipendent"),
    "confused": ("non capisco", "perché mi", "più del solito", "troppo"),
}
