"""What ticket words mean, in the ten languages customers write to us in (SPEC §4, issue #16).

Plain keyword lexicons, one per signal and language, compiled to regular expressions: no
model and no network, deterministic, and a reviewer can read why a word counted. A model
(even a small one shipped in the wheel) was not chosen: the cues are a few hundred stems
and phrases, the corpus in `tests/data/tickets/` measures them, and a wrong cue is fixed
by editing one line here, where a model would need retraining and could not say why.

Conventions:
- Latin-script entries are stems matched at the start of a word (`rembours` matches
  "remboursement", "remboursez"); add `\\b` where a whole word is meant.
- Japanese and Chinese have no spaces: entries are plain substrings.
- `_` in an entry stands for "up to four words in between" (Latin) or "up to eight
  characters" (CJK), for phrases customers split ("update my old card").
- Text is NFKC-normalised and curly quotes are straightened before matching.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

LANGUAGES = ("en", "de", "fr", "es", "pt", "it", "nl", "pl", "ja", "zh")
CJK = frozenset({"ja", "zh"})

# signal -> language -> entries. Signals are what a ticket *says*; classify decides what
# they are worth against the billing evidence.
LEXICON: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    # Asks for money back.
    "refund": {
        "en": ("refund", r"money back\b", "reimburs", r"credit _ back\b", "chargeback"),
        "de": (
            "rückerstatt",
            "zurückerstatt",
            "erstatt",
            r"geld _ zurück",
            "gutschrift",
            "zurückzahl",
            "zurück überwiesen",
            "zurücküberweis",
            "rückzahlung",
        ),
        "fr": ("rembours", "me rendre mon argent", "récupérer mon argent"),
        "es": (
            "reembols",
            "devolución",
            "devuelvan",
            "devolver el dinero",
            "devolverme",
            "reintegr",
            "mi dinero",
        ),
        "pt": (
            "reembols",
            "estorn",
            "devolução",
            r"devolv(?:er|am)\b",
            "meu dinheiro de volta",
            "ressarc",
        ),
        "it": (
            "rimbors",
            "restituzione",
            "restituite",
            "restituire",
            "riavere i soldi",
            "soldi indietro",
            "storno",
        ),
        "nl": (
            "terugbetal",
            "terugstort",
            r"geld _ terug",
            "restitutie",
            "terugboek",
            "terug te storten",
            "terugkrijgen",
        ),
        "pl": ("zwrot", "zwróć", "zwrócić", "zwrócenie", "oddać pieniądze", "oddajcie", "zwrócili"),
        "ja": ("返金", "払い戻", "払戻", "返して", "返還"),
        "zh": ("退款", "退钱", "退还", "退費", "退费", "返还", "把钱退"),
    },
    # Asks to stop the subscription (or says it was stopped: see `after_cancel`).
    "cancel": {
        "en": (
            "cancel",
            "unsubscrib",
            r"terminate\b",
            "close my account",
            "delete my account",
            r"stop _ (?:subscription|plan|billing|charging)",
            "end my subscription",
            "turn off auto-?renew",
        ),
        "de": (
            "kündig",
            "storn",
            "abbestell",
            r"abo _ beenden",
            "beenden sie",
            "konto löschen",
            "vertrag beenden",
        ),
        "fr": (
            "annul",
            "résili",
            "résiliation",
            "désabonn",
            "désinscri",
            "mettre fin",
            "arrêter mon abonnement",
            "fermer mon compte",
        ),
        "es": (
            "cancel",
            r"dar(?:me)? de baja",
            r"darnos de baja",
            "anular",
            "baja del servicio",
            "cerrar mi cuenta",
        ),
        "pt": ("cancel", "encerrar", "desativar a assinatura", "cancelamento"),
        "it": (
            "disdi",
            "disdett",
            "annull",
            r"cancellare _ abbonamento",
            "cancellazione",
            "disattiva",
        ),
        "nl": (
            "opzeg",
            "opgezegd",
            "annuleer",
            "annulering",
            "stopzetten",
            "beëindig",
            r"zeg _ op\b",
        ),
        "pl": (
            "anulow",
            "anuluj",
            "zrezygnow",
            "rezygnac",
            "wypowiedz",
            "wypowiedzieć",
            r"zakończ _ subskrypcj",
            "usunąć konto",
        ),
        "ja": ("解約", "キャンセル", "退会", "停止して", "やめたい", "止めて"),
        "zh": ("取消", "退订", "退訂", "注销", "停止订阅", "停止续费", "关闭自动续费"),
    },
    # The customer says they already cancelled (a charge after cancelling is a trust break).
    "after_cancel": {
        "en": (
            r"after _ cancel",
            r"though _ cancel",
            "already cancel",
            "had cancel",
            "have cancel",
            "i cancelled",
            "i canceled",
            "was cancelled",
            "was canceled",
        ),
        "de": (
            "nach der kündigung",
            "obwohl ich _ gekündigt",
            "bereits gekündigt",
            "schon gekündigt",
            "habe gekündigt",
            "hatte gekündigt",
            "trotz kündigung",
            "gekündigt habe",
            "gekündigt hatte",
        ),
        "fr": (
            "après avoir résilié",
            "après avoir annulé",
            "déjà résilié",
            "déjà annulé",
            "alors que j'ai _ annulé",
            "alors que j'ai _ résilié",
            "avais annulé",
            "avais résilié",
            "après la résiliation",
            "après résiliation",
            "ai résilié",
            "ai annulé",
        ),
        "es": (
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
        "pt": (
            "depois de cancelar",
            "após cancelar",
            "já tinha cancelado",
            "já cancelei",
            "mesmo tendo cancelado",
            "cancelei",
            "após o cancelamento",
        ),
        "it": (
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
        "nl": (
            "na het opzeggen",
            "al opgezegd",
            "had opgezegd",
            "heb opgezegd",
            "ondanks mijn opzegging",
            "na opzegging",
            "terwijl ik _ opgezegd",
        ),
        "pl": (
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
        "ja": (
            "解約したのに",
            "解約後",
            "キャンセルしたのに",
            "退会したのに",
            "解約済",
            "解約した後",
            "キャンセル後",
            "退会後",
        ),
        "zh": ("取消后", "已经取消", "已取消", "取消了还", "退订后", "取消订阅后", "明明取消"),
    },
    # Money taken: with `after_cancel`, a charge reported after cancelling ("I cancelled in
    # March" alone is not a complaint).
    "charged": {
        "en": ("charg", "billed", "debited", r"took (?:my )?money", "renewed", "payment went"),
        "de": ("abgebucht", "belastet", "berechnet", "abbuchung", "verlängert", "bezahlt"),
        "fr": ("prélev", "débité", "facturé", "renouvel", "payé"),
        "es": ("cobr", "cargo", "cargaron", "facturaron", "renov", "pagué"),
        "pt": ("cobr", "debitad", "renov", "paguei"),
        "it": ("addebit", "prelev", "rinnov", "pagato"),
        "nl": ("afgeschreven", "afschrijving", "gefactureerd", "verlengd", "betaald"),
        "pl": ("pobral", "pobrano", "obciąż", "odnowi", "zapłaci", "opłat"),
        "ja": ("請求", "引き落と", "課金", "更新され", "支払"),
        "zh": ("扣", "收费", "续费", "付款", "收了"),
    },
    # A charge or renewal the customer did not expect.
    "surprise": {
        "en": (
            r"unexpected(?:ly)? _ (?:charge|renew)",
            "surprise",
            "renewed without",
            r"without (?:any )?(?:notice|warning|reminder|email)",
            r"(?:didn't|did not|never) (?:expect|know|realize|agree)",
            "no reminder",
            "auto-?renewed",
            "never authori[sz]ed",
        ),
        "de": (
            "ohne vorwarnung",
            "ohne ankündigung",
            "ohne erinnerung",
            "ohne hinweis",
            "automatisch verlängert",
            "unerwartet",
            "überrasch",
            "ohne vorankündigung",
            "nicht autorisiert",
            "ungefragt",
        ),
        "fr": (
            "sans prévenir",
            "sans préavis",
            "sans avertissement",
            "sans rappel",
            "renouvelé automatiquement",
            "reconduit",
            "inattendu",
            "surprise",
            "à mon insu",
            "sans mon accord",
        ),
        "es": (
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
        "pt": (
            "sem aviso",
            "renovou automaticamente",
            "renovada automaticamente",
            "inesperad",
            "surpresa",
            "sem minha autorização",
            "sem autorização",
        ),
        "it": (
            "senza preavviso",
            "senza avviso",
            "rinnovato automaticamente",
            "rinnovo automatico",
            "inaspettat",
            "sorpresa",
            "senza autorizzazione",
            "a mia insaputa",
        ),
        "nl": (
            "zonder waarschuwing",
            "zonder bericht",
            "zonder aankondiging",
            "automatisch verlengd",
            "onverwacht",
            "verrass",
            "zonder toestemming",
        ),
        "pl": (
            "bez ostrzeżenia",
            "bez uprzedzenia",
            "bez powiadomienia",
            "automatycznie odnowi",
            "nieoczekiwan",
            "niespodziewan",
            "bez mojej zgody",
            "bez zgody",
        ),
        "ja": (
            "予告なく",
            "知らないうちに",
            "勝手に",
            "通知なし",
            "通知もなく",
            "予告もなく",
            "無断で",
        ),
        "zh": (
            "自动续费了",
            "没有通知",
            "未经通知",
            "莫名其妙",
            "突然扣",
            "未经同意",
            "没有提醒",
            "自动扣费",
        ),
    },
    # The product broke or did not deliver.
    "broken": {
        "en": (
            "broken",
            r"not working",
            r"(?:doesn't|didn't|does not|did not|never) work",
            "outage",
            r"(?:is|was|were|been|went) down\b",
            "crash",
            r"\bbug",
            "unusable",
            r"(?:can't|cannot|couldn't|could not|unable to) _ (?:use|log ?in|access|open)",
            "never (?:received|delivered|got)",
            "error",
            "stopped working",
            "useless",
        ),
        "de": (
            "funktioniert nicht",
            "funktioniert _ nicht",
            "kaputt",
            "ausfall",
            "ausgefallen",
            "störung",
            "fehler",
            "nicht erreichbar",
            "abgestürzt",
            "stürzt _ ab",
            "unbrauchbar",
            "kann mich nicht anmelden",
            "nicht nutzbar",
            "geht nicht",
            r"down\b",
        ),
        "fr": (
            "ne fonctionne pas",
            "ne marche pas",
            "panne",
            "bug",
            "plant",
            "inaccessible",
            "impossible de me connecter",
            "impossible d'utiliser",
            "hors service",
            "inutilisable",
            "erreur",
            "ne fonctionne plus",
            "ne marche plus",
        ),
        "es": (
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
        "pt": (
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
        "it": (
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
        "nl": (
            "werkt niet",
            "storing",
            "kapot",
            r"lag plat",
            "ligt plat",
            "onbereikbaar",
            "kan niet inloggen",
            "crasht",
            "foutmelding",
            "onbruikbaar",
            "werkt _ niet",
            "doet het niet",
        ),
        "pl": (
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
        "ja": (
            "使えない",
            "動かない",
            "障害",
            "不具合",
            "ログインできない",
            "エラー",
            "落ちて",
            "繋がらない",
            "つながらない",
            "利用できない",
            "使えません",
            "動きません",
            "ダウン(?!ロード|グレード)",
        ),
        "zh": (
            "无法使用",
            "不能用",
            "用不了",
            "故障",
            "宕机",
            "崩溃",
            "打不开",
            "无法登录",
            "登录不了",
            "出错",
            "报错",
            "无法访问",
            "挂了",
            "没法用",
        ),
    },
    # Words saying the same thing was bought or charged more than once.
    "duplicate": {
        "en": (
            r"twice\b",
            r"double",
            r"duplicat",
            r"two (?:subscriptions|charges|accounts)",
            r"charged two",
            r"\d+ ?x\b",
            r"\d+ times",
            "two separate",
            "second subscription",
            "same plan again",
            "charged again",
        ),
        "de": (
            "doppelt",
            "zweimal",
            r"zwei abos",
            "zwei abonnements",
            "zweites abo",
            "zwei mal",
            "zwei belastungen",
            "zweifach",
            "nochmal abgebucht",
        ),
        "fr": (
            "deux fois",
            "en double",
            "doublon",
            "deux abonnements",
            "double",
            "deux prélèvements",
            "deux débits",
            "prélevé deux",
        ),
        "es": (
            "dos veces",
            "duplicad",
            "doble",
            "dos suscripciones",
            "dos cargos",
            "dos cobros",
            "cobrado dos",
        ),
        "pt": (
            "duas vezes",
            "duplicad",
            "em dobro",
            "duas assinaturas",
            "duas cobranças",
            "dobrad",
            "cobrança dupla",
        ),
        "it": (
            "due volte",
            "doppi",
            "duplicat",
            "due abbonamenti",
            "due addebiti",
            "addebitato due",
        ),
        "nl": (
            "twee keer",
            "dubbel",
            "tweemaal",
            "twee abonnementen",
            "twee afschrijvingen",
            "2 keer",
        ),
        "pl": (
            "dwa razy",
            "podwójn",
            "dwukrotnie",
            "dwie subskrypcje",
            "zduplikowan",
            "dwie płatności",
            "dwa obciążenia",
            "2 razy",
        ),
        "ja": ("二重", "2回", "二回", "重複", "2つの", "二つの", "2件", "ダブって"),
        "zh": ("两次", "重复", "扣了两", "二次", "两个订阅", "两笔", "双重", "2次"),
    },
    # Wants invoices, receipts, tax documents.
    "invoices": {
        "en": (r"invoices?\b", r"receipts?\b", r"\bvat\b", "tax document", "billing history"),
        "de": (
            "rechnungen",
            r"rechnung\b(?! _ (?:doppelt|zweimal))",
            "quittung",
            "beleg",
            "mwst",
            r"\bust-?id",
            "rechnungskopie",
        ),
        "fr": (r"factures?\b", r"reçus?\b", r"\btva\b", "justificatif"),
        "es": (r"facturas?\b", r"recibos?\b", r"\biva\b", "comprobante"),
        "pt": (r"faturas?\b", "nota fiscal", "notas fiscais", r"recibos?\b", "comprovante"),
        "it": (r"fattur[ae]\b", r"ricevut[ae]\b", "partita iva", r"\biva\b"),
        "nl": (r"factu(?:u)?r(?:en)?\b", "kwitantie", r"\bbtw\b", r"\bbonnetje"),
        "pl": ("faktur", "paragon", r"\bvat\b", "rachun"),
        "ja": ("請求書", "領収書", "インボイス", "明細"),
        "zh": ("发票", "發票", "收据", "收據", "账单明细"),
    },
    # Wants to change the card or payment method.
    "card": {
        "en": (
            r"(?:update|change|replace|switch|new|expired?|add) _ (?:card|payment method)",
            r"(?:card|payment method) _ (?:update|change|expire|replace)",
            "billing details",
            "payment details",
        ),
        "de": (
            r"(?:karte|zahlungsmethode|zahlungsart|kreditkarte) _ (?:ändern|aktualisier"
            r"|wechseln|abgelaufen|hinterlegen|tauschen)",
            r"(?:neue|andere|abgelaufene) _ (?:karte|kreditkarte|zahlungsmethode)",
            "zahlungsdaten ändern",
            "bankverbindung ändern",
        ),
        "fr": (
            r"(?:changer|modifier|mettre à jour|remplacer) _ (?:carte|moyen de paiement)",
            r"(?:nouvelle|autre) carte",
            "carte _ expir",
            "coordonnées bancaires",
        ),
        "es": (
            r"(?:cambiar|actualizar|modificar|reemplazar) _ (?:tarjeta|método de pago"
            r"|forma de pago)",
            r"(?:nueva|otra) tarjeta",
            "tarjeta _ (?:vencid|caducad)",
        ),
        "pt": (
            r"(?:trocar|alterar|atualizar|mudar) _ (?:cartão|forma de pagamento"
            r"|método de pagamento)",
            r"(?:novo|outro) cartão",
            "cartão _ (?:vencid|expir)",
        ),
        "it": (
            r"(?:cambiare|aggiornare|modificare|sostituire) _ (?:carta|metodo di pagamento)",
            r"(?:nuova|altra) carta",
            "carta _ scadut",
        ),
        "nl": (
            r"(?:wijzigen|aanpassen|bijwerken|veranderen) _ (?:kaart|creditcard"
            r"|betaalmethode)",
            r"(?:kaart|creditcard|betaalmethode) _ (?:wijzigen|aanpassen"
            r"|bijwerken|veranderen|verlopen)",
            r"(?:nieuwe|andere) (?:kaart|creditcard)",
        ),
        "pl": (
            r"(?:zmienić|zmiana|zaktualizować|aktualizacja) _ (?:kart|metod[yę] płatności)",
            r"(?:now[aąe]|inn[aąe]) kart",
            "karta _ wygasł",
        ),
        "ja": (
            "カード _ 変更",
            "カード _ 更新",
            "支払い方法 _ 変更",
            "支払方法 _ 変更",
            "新しいカード",
            "カードの期限",
        ),
        "zh": (
            "更换 _ 卡",
            "换卡",
            "更新 _ 卡",
            "更改 _ 支付方式",
            "更改 _ 付款方式",
            "新的信用卡",
            "卡过期",
            "修改支付方式",
        ),
    },
    # Wants seats, licences or another plan. (Naming seats is not a claim that an extra
    # subscription is someone's: see `team`.)
    "seats": {
        "en": (
            r"seats?\b",
            "upgrad",
            "downgrad",
            r"licen[cs]es?\b",
            r"(?:add|remove) _ (?:users?|members?)",
            r"(?:change|switch) _ plan\b",
            r"plan change",
            "annual plan instead",
            "switch to annual",
            "switch to monthly",
        ),
        "de": (
            "lizenz",
            r"plätze\b",
            r"(?:plan|tarif|paket) _ (?:wechseln|ändern)",
            "upgrade",
            "downgrade",
            r"nutzer _ hinzufügen",
            r"benutzer _ hinzufügen",
            "jahresabo statt",
            "auf jährlich",
        ),
        "fr": (
            r"licences?\b",
            r"sièges?\b",
            r"postes?\b",
            r"(?:changer|passer) _ (?:forfait"
            r"|formule|offre|plan)",
            r"ajouter _ utilisateurs",
            "mise à niveau",
            "upgrade",
            "downgrade",
            "rétrograder",
        ),
        "es": (
            r"licencias?\b",
            r"asientos?\b",
            r"puestos?\b",
            r"cambiar _ plan",
            r"(?:añadir|agregar|quitar) _ usuarios",
            "mejorar _ plan",
            "upgrade",
            "downgrade",
            "plan anual",
        ),
        "pt": (
            r"licenças?\b",
            r"assentos?\b",
            r"(?:mudar|trocar|alterar) _ plano",
            r"(?:adicionar|remover) _ usuários",
            "upgrade",
            "downgrade",
            "plano anual",
        ),
        "it": (
            r"licenz[ae]\b",
            r"postazion[ie]\b",
            r"(?:cambiare|passare) _ piano",
            r"(?:aggiungere|rimuovere) _ utenti",
            "upgrade",
            "downgrade",
            "piano annuale",
        ),
        "nl": (
            r"licenties?\b",
            r"(?:abonnement|plan) _ (?:wijzigen|aanpassen|veranderen)",
            r"(?:ander|groter|kleiner) (?:abonnement|plan)",
            r"gebruikers _ toevoegen",
            "upgraden",
            "downgraden",
            "upgrade",
            "downgrade",
            "jaarabonnement",
        ),
        "pl": (
            "licencj",
            "stanowisk",
            r"(?:zmienić|zmiana) _ plan",
            r"dodać _ użytkownik",
            "upgrade",
            "downgrade",
            "plan roczny",
            "pakiet",
        ),
        "ja": (
            "プラン変更",
            "プランを変更",
            "アップグレード",
            "ダウングレード",
            "ライセンス",
            "シート",
            "ユーザーを追加",
            "年額プラン",
            "年払い",
        ),
        "zh": (
            "升级",
            "降级",
            "更换套餐",
            "更改计划",
            "席位",
            "许可证",
            "换套餐",
            "换成年付",
            "增加用户",
            "添加成员",
            "改成年付",
        ),
    },
    # A claim about the account's shape: the extra subscription or seats are for other
    # people on purpose. Mentions of people in other roles (who helped, an accountant, the
    # people who use the product) are `others`, not this.
    "team": {
        "en": (
            r"(?:seats?|licen[cs]es?) for (?:my|our|the|each|every|\d)",
            "team plan",
            "per user",
            "per seat",
            r"(?:bought|purchased|got|ordered|added|subscribed|signed up|created|set up|"
            r"second one|another one|extra one) _ for (?:my|our|a|the) (?:new )?"
            r"(?:colleague|coworker|co-worker|employee|team|partner|wife|husband|assistant"
            r"|intern|hire|designer|developer|sister|brother|friend|staff)",
            r"(?:one|each|a subscription|a second) for (?:each|every)",
            r"for (?:each|every) (?:of us|member|user|person)",
            r"each of us (?:has|needs)",
        ),
        "de": (
            r"(?:lizenz\w*|plätze) für",
            "pro nutzer",
            "pro benutzer",
            "team-?plan",
            r"(?:gekauft|gebucht|bestellt|abgeschlossen|angelegt|hinzugefügt) _ für "
            r"(?:meine|meinen|unseren|unsere|einen|eine)",
            r"für (?:meinen|meine|unseren|unsere) (?:neue[n]? )?(?:kolleg|mitarbeiter"
            r"|praktikant|team|frau|mann|partner)\w* _ (?:gekauft|gebucht|bestellt"
            r"|abgeschlossen|angelegt|hinzugefügt)",
            "für jeden mitarbeiter",
            "für jeden von uns",
        ),
        "fr": (
            r"(?:licences?|sièges?) pour",
            "par utilisateur",
            "plan équipe",
            r"(?:acheté|pris|souscrit|commandé|ajouté|créé) _ pour (?:mon|ma|notre|un|une)"
            r" (?:nouve(?:au|lle) )?(?:collègue|employé|équipe|associé|stagiaire|femme"
            r"|mari|assistant)",
            "pour chaque membre",
            "pour chacun de nous",
        ),
        "es": (
            r"(?:licencias?|asientos?) para",
            "por usuario",
            "plan de equipo",
            r"(?:compré|contraté|pedí|añadí|agregué|creé|suscribí) _ para (?:mi|mis|nuestro"
            r"|nuestra|un|una) (?:nuev[oa] )?(?:compañer|colega|emplead|equipo|socio"
            r"|esposa|marido|asistente|becari)",
            "para cada miembro",
            "para cada uno de",
        ),
        "pt": (
            r"(?:licenças?|assentos?) para",
            "por usuário",
            "plano de equipe",
            r"(?:comprei|contratei|assinei|adicionei|criei|fiz) _ para (?:meu|minha|nosso"
            r"|nossa|um|uma) (?:nov[oa] )?(?:colega|funcionári|equipe|time|sóci|esposa"
            r"|marido|assistente|estagiári)",
            "para cada membro",
            "para cada um de",
        ),
        "it": (
            r"(?:licenz[ae]|postazion[ie]) per",
            "per utente",
            "piano team",
            r"(?:comprato|acquistato|preso|sottoscritto|aggiunto|attivato|creato) _ per "
            r"(?:il mio|la mia|un|una|il nostro|la nostra|mio|mia) (?:nuov[oa] )?"
            r"(?:collega|dipendente|team|socio|moglie|marito|assistente|stagista)",
            "per ogni membro",
            "per ciascuno di noi",
        ),
        "nl": (
            r"licenties? voor",
            "per gebruiker",
            "teamabonnement",
            "team-abonnement",
            r"(?:gekocht|afgesloten|besteld|toegevoegd|aangemaakt|genomen) _ voor "
            r"(?:mijn|onze|ons|een) (?:nieuwe )?(?:collega|medewerker|team|partner|vrouw"
            r"|man|stagiair|assistent)",
            r"voor (?:mijn|onze|een) (?:nieuwe )?(?:collega|medewerker|stagiair|assistent)"
            r" _ (?:gekocht|afgesloten|besteld|toegevoegd|aangemaakt|genomen)",
            "voor elke medewerker",
            "voor ieder van ons",
        ),
        "pl": (
            r"(?:licencj\w*|stanowisk\w*) dla",
            "na użytkownika",
            "plan zespołowy",
            r"(?:kupił\w*|wykupił\w*|zamówił\w*|dodał\w*|założył\w*) _ dla (?:mojego|mojej"
            r"|naszego|naszej|nowego|nowej) _ ?(?:kolegi|koleżanki|pracownik|zespołu"
            r"|współpracownik|żony|męża|asystent|stażyst)",
            r"dla (?:kolegi|koleżanki|pracownika|żony|męża) z ",
            "dla każdego członka",
            "dla każdego z nas",
        ),
        "ja": (
            "チームプラン",
            "ユーザーごと",
            "同僚のために",
            "同僚用",
            "部下用",
            "メンバー用",
            "スタッフ用",
            "社員用",
            "同僚の分",
            "メンバーの分",
            "一人ずつ",
        ),
        "zh": (
            "团队版",
            "每个用户",
            "给同事买",
            "为同事",
            "给新同事",
            "同事用的",
            "给员工",
            "为员工",
            "每人一个",
            "给团队",
        ),
    },
    # People other than the customer (who helped, an accountant, users): shown in the
    # DECISION as considered, never a claim about the account.
    "others": {
        "en": (
            "colleague",
            "coworker",
            "co-worker",
            r"\bteam\b",
            "accountant",
            r"\bboss\b",
            "employee",
            "assistant",
            "manager",
            r"\bstaff\b",
            "members",
        ),
        "de": ("kolleg", r"\bteam\b", "buchhalt", "steuerberater", "chef", "mitarbeiter"),
        "fr": ("collègue", "équipe", "comptable", "patron", "employé", "assistant"),
        "es": ("compañer", "colega", "equipo", "contador", "contable", "jefe", "emplead"),
        "pt": ("colega", "equipe", r"\btime\b", "contador", "chefe", "funcionári"),
        "it": ("collega", "colleghi", r"\bteam\b", "commercialista", "capo", "dipendent"),
        "nl": ("collega", r"\bteam\b", "boekhoud", "baas", "medewerker"),
        "pl": ("kolega", "koleżank", "zespół", "zespoł", "księgow", "szef", "pracowni"),
        "ja": ("同僚", "チーム", "経理", "上司", "社員", "メンバー", "スタッフ"),
        "zh": ("同事", "团队", "会计", "老板", "员工", "成员"),
    },
    # Does not understand an amount.
    "confused": {
        "en": (
            r"why (?:was|am|were|is|are|did) (?:i|we|you)",
            r"(?:don't|do not) understand",
            "what am i paying",
            "too much",
            "overcharg",
            "higher than",
            "more than usual",
        ),
        "de": ("verstehe nicht", "warum wurde", "warum zahle", "zu viel", "mehr als sonst"),
        "fr": (
            "je ne comprends pas",
            "pourquoi ai-je",
            "pourquoi j'ai",
            "trop cher",
            "plus que d'habitude",
        ),
        "es": ("no entiendo", "por qué me", "demasiado", "más de lo normal"),
        "pt": ("não entendo", "por que fui", "porque fui", "mais do que o normal"),
        "it": ("non capisco", "perché mi", "più del solito", "troppo"),
        "nl": (
            "begrijp niet",
            "snap niet",
            r"waarom (?:is|heb|betal|kost|wordt|moet)",
            "meer dan normaal",
        ),
        "pl": ("nie rozumiem", "dlaczego", "więcej niż zwykle"),
        "ja": ("なぜ", "どうして", "理解できない", "高すぎ"),
        "zh": ("为什么", "不明白", "搞不懂", "太贵"),
    },
}

# A word that turns an ask around when it comes just before it ("no refund needed",
# "I don't want to cancel"). Only refund and cancel asks are negated.
NEGATIONS: Mapping[str, str] = {
    "en": r"(?:no|not|don't|do not|never|without)\b(?:\W+\w+){0,3}\W+$",
    "de": r"(?:kein\w*|nicht|nie)\b(?:\W+\w+){0,3}\W+$",
    "fr": r"(?:pas|jamais|sans)\b(?:\W+\w+){0,3}\W+$",
    "es": r"(?:no|sin|nunca)\b(?:\W+\w+){0,3}\W+$",
    "pt": r"(?:não|nao|sem|nunca)\b(?:\W+\w+){0,3}\W+$",
    "it": r"(?:non|senza|mai)\b(?:\W+\w+){0,3}\W+$",
    "nl": r"(?:geen|niet|nooit|zonder)\b(?:\W+\w+){0,3}\W+$",
    "pl": r"(?:nie|bez)\b(?:\W+\w+){0,3}\W+$",
}
NEGATED_SIGNALS = frozenset({"refund", "cancel"})
# Japanese and Chinese negate after the word or with 不/没 just before it.
_CJK_NEG_AFTER = re.compile(r".{0,3}(?:不要|不需要|しない|しません|いらない|不用|なし)")
_CJK_NEG_BEFORE = re.compile(r"(?:不要|不需要|不用|不想|没有|無需|无需)$")

_GAP_LATIN = r"(?:\W+[^\W_]+){0,4}?\W+"
_GAP_CJK = r".{0,8}?"
_WORD_START = r"(?<![^\W\d_])"


def _alternatives(entries: tuple[str, ...], cjk: bool) -> str:
    gap = _GAP_CJK if cjk else _GAP_LATIN
    return "|".join(f"(?:{entry.replace(' _ ', gap)})" for entry in entries)


def _compile(by_lang: Mapping[str, tuple[str, ...]], cjk: bool) -> re.Pattern[str] | None:
    """One pattern per signal and script, a named group per language: one scan of the
    text per signal instead of one per language. Matched on lower-cased text."""
    groups = [
        f"(?P<{lang}>{_alternatives(entries, cjk)})"
        for lang, entries in by_lang.items()
        if (lang in CJK) == cjk
    ]
    if not groups:
        return None
    body = "|".join(groups)
    return re.compile(body if cjk else f"{_WORD_START}(?:{body})")


@cache
def _compiled() -> dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]]:
    """Compiled on first use (about 0.15 s), so importing the core stays cheap."""
    return {
        signal: (_compile(by_lang, cjk=False), _compile(by_lang, cjk=True))
        for signal, by_lang in LEXICON.items()
    }


_NEGATIONS = {lang: re.compile(p, re.IGNORECASE) for lang, p in NEGATIONS.items()}
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
MAX_CUE_CHARS = 20_000

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_QUOTES)


@dataclass(frozen=True, slots=True)
class Hit:
    """One cue found in the ticket: which signal, in which language, and the words."""

    signal: str
    lang: str
    words: str
    negated: bool = False


def _negated(text: str, start: int, end: int, lang: str) -> bool:
    if lang in CJK:
        before = text[max(0, start - 4) : start]
        return bool(_CJK_NEG_AFTER.match(text, end) or _CJK_NEG_BEFORE.search(before))
    rx = _NEGATIONS.get(lang)
    if rx is None:
        return False
    # Only within the clause: a negation in the previous sentence or clause does not count.
    head = re.split(r"[.!?;,\n]", text[max(0, start - 60) : start])[-1]
    return bool(rx.search(head))


def find_cues(text: str) -> list[Hit]:
    """Every cue in `text`: per signal and language the first match that is not negated
    (and the negated ones before it), in a fixed order. Only the first `MAX_CUE_CHARS`
    characters are read: a ticket says what it wants long before that."""
    text = normalise(text[:MAX_CUE_CHARS]).lower()
    has_cjk = _CJK_CHAR.search(text) is not None
    hits: list[Hit] = []
    for signal, (latin, cjk) in _compiled().items():
        done: set[str] = set()
        for rx in (latin, cjk if has_cjk else None):
            if rx is None:
                continue
            for m in rx.finditer(text):
                lang = m.lastgroup or ""
                if lang in done:
                    continue
                negated = signal in NEGATED_SIGNALS and _negated(text, m.start(), m.end(), lang)
                hits.append(Hit(signal, lang, _clip(m.group()), negated))
                if not negated:
                    done.add(lang)
    order = {lang: i for i, lang in enumerate(LANGUAGES)}
    signals = list(LEXICON)
    return sorted(hits, key=lambda h: (signals.index(h.signal), order[h.lang]))


def _clip(words: str) -> str:
    """The matched words as shown in the DECISION: short, one line, no addresses."""
    words = " ".join(w if "@" not in w else "…" for w in words.split())
    return words if len(words) <= 40 else words[:39] + "…"
