"""Portuguese cues: signal -> entries (conventions in `billingops.core.lexicon`)."""

from __future__ import annotations

# Words that turn a refund or cancel ask around when they come just before it.
NEGATION: str | None = r"(?:não|nao|sem|nunca)\b(?:\W+\w+){0,3}\W+$"

# The customer's own business, project or plans: a failure word right after one of
# these is about the customer, not the product ("our launch failed").
OWN_AFFAIRS: tuple[str, ...] = (
    r"start-?ups?\b",
    "empresa",
    "negócio",
    r"loja\b",
    "restaurante",
    "agência",
    "projeto",
    "lançamento",
    "campanha",
    "financiamento",
    "rodada",
    r"vendas\b",
    "faturamento",
    r"planos\b",
    r"ideia\b",
    r"piloto\b",
    "casamento",
    r"prova\b",
    "orçamento",
)

CUES: dict[str, tuple[str, ...]] = {
    "refund": (
        "reembols",
        "estorn",
        "devolução",
        r"devolv(?:er|am)\b",
        "meu dinheiro de volta",
        "ressarc",
    ),
    "cancel": ("cancel", "encerrar", "desativar a assinatura", "cancelamento"),
    "after_cancel": (
        "depois de cancelar",
        "após cancelar",
        "já tinha cancelado",
        "já cancelei",
        "mesmo tendo cancelado",
        "cancelei",
        "após o cancelamento",
    ),
    "charged": ("cobr", "debitad", "renov", "paguei"),
    "surprise": (
        "sem aviso",
        "renovou automaticamente",
        "renovada automaticamente",
        "inesperad",
        "surpresa",
        "sem minha autorização",
        "sem autorização",
    ),
    "broken": (
        "não funciona",
        "nao funciona",
        "fora do ar",
        r"\bcaiu",
        "travando",
        "trava",
        "erro",
        "falha",
        "não consigo acessar",
        "não consigo entrar",
        "inutilizável",
        "parou de funcionar",
        "não serve",
    ),
    "duplicate": (
        "duas vezes",
        "duplicad",
        "em dobro",
        "duas assinaturas",
        "duas cobranças",
        "dobrad",
        "cobrança dupla",
    ),
    "invoices": (r"faturas?\b", "nota fiscal", "notas fiscais", r"recibos?\b", "comprovante"),
    "card": (
        "(?:trocar|alterar|atualizar|mudar) _ (?:cartão|forma de pagamento|método de pagamento)",
        "(?:novo|outro) cartão",
        "cartão _ (?:vencid|expir)",
    ),
    "seats": (
        r"licenças?\b",
        r"assentos?\b",
        "(?:mudar|trocar|alterar) _ plano",
        "(?:adicionar|remover) _ usuários",
        "upgrade",
        "downgrade",
        "plano anual",
    ),
    "team": (
        "(?:licenças?|assentos?) para",
        "por usuário",
        "plano de equipe",
        "(?:comprei|contratei|assinei|adicionei|criei|fiz) _ para (?:meu|minha|nosso|nossa|um|uma) (?:nov[oa] )?(?:colega|funcionári|equipe|time|sóci|esposa|marido|assistente|estagiári)",  # noqa: E501 (one regular expression)
        "para cada membro",
        "para cada um de",
    ),
    "others": ("colega", "equipe", r"\btime\b", "contador", "chefe", "funcionári"),
    "confused": ("não entendo", "por que fui", "porque fui", "mais do que o normal"),
}
