"""Spanish cues: signal -> entries (conventions in `billingops.core.lexicon`)."""

from __future__ import annotations

# Words that turn a refund or cancel ask around when they come just before it.
NEGATION: str | None = r"(?:no|sin|nunca)\b(?:\W+\w+){0,3}\W+$"

# The customer's own business, project or plans: a failure word right after one of
# these is about the customer, not the product ("our launch failed").
OWN_AFFAIRS: tuple[str, ...] = (
    r"start-?ups?\b",
    "empresa",
    "negocio",
    r"tienda\b",
    "restaurante",
    "agencia",
    "proyecto",
    "lanzamiento",
    "campaña",
    "financiación",
    "ronda",
    r"ventas\b",
    "facturación",
    r"planes\b",
    r"idea\b",
    r"piloto\b",
    "matrimonio",
    "examen",
    r"presupuesto\b",
)

CUES: dict[str, tuple[str, ...]] = {
    "refund": (
        "reembols",
        "devolución",
        "devuelvan",
        "devolver el dinero",
        "devolverme",
        "reintegr",
        "mi dinero",
    ),
    "cancel": (
        "cancel",
        "dar(?:me)? de baja",
        "darnos de baja",
        "anular",
        "baja del servicio",
        "cerrar mi cuenta",
    ),
    "after_cancel": (
        "después de cancelar",
        "ya había cancelado",
        "ya cancelé",
        "aunque cancelé",
        "a pesar de cancelar",
        "había dado de baja",
        "después de darme de baja",
        "cancelé",
        "tras cancelar",
    ),
    "charged": ("cobr", "cargo", "cargaron", "facturaron", "renov", "pagué"),
    "surprise": (
        "sin aviso",
        "sin avisar",
        "sin previo aviso",
        "renovó automáticamente",
        "se renovó",
        "inesperad",
        "sorpresa",
        "sin mi permiso",
        "sin mi consentimiento",
    ),
    "broken": (
        "no funciona",
        "caíd",
        "se cae",
        "error",
        "fallo",
        "no puedo entrar",
        "no puedo acceder",
        "inservible",
        "no sirve",
        "dejó de funcionar",
        "se colgó",
        "no anda",
    ),
    "duplicate": (
        "dos veces",
        "duplicad",
        "doble",
        "dos suscripciones",
        "dos cargos",
        "dos cobros",
        "cobrado dos",
    ),
    "invoices": (r"facturas?\b", r"recibos?\b", r"\biva\b", "comprobante"),
    "card": (
        "(?:cambiar|actualizar|modificar|reemplazar) _ (?:tarjeta|método de pago|forma de pago)",
        "(?:nueva|otra) tarjeta",
        "tarjeta _ (?:vencid|caducad)",
    ),
    "seats": (
        r"licencias?\b",
        r"asientos?\b",
        r"puestos?\b",
        "cambiar _ plan",
        "(?:añadir|agregar|quitar) _ usuarios",
        "mejorar _ plan",
        "upgrade",
        "downgrade",
        "plan anual",
    ),
    "team": (
        "(?:licencias?|asientos?) para",
        "por usuario",
        "plan de equipo",
        "(?:compré|contraté|pedí|añadí|agregué|creé|suscribí) _ para (?:mi|mis|nuestro|nuestra|un|una) (?:nuev[oa] )?(?:compañer|colega|emplead|equipo|socio|esposa|marido|asistente|becari)",  # noqa: E501 (one regular expression)
        "para cada miembro",
        "para cada uno de",
    ),
    "others": ("compañer", "colega", "equipo", "contador", "contable", "jefe", "emplead"),
    "confused": ("no entiendo", "por qué me", "demasiado", "más de lo normal"),
}
