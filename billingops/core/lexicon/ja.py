"""Japanese cues: signal -> entries (conventions in `billingops.core.lexicon`)."""

from __future__ import annotations

# Japanese and Chinese negation is read by the engine (after the word, or 不/没 before).
NEGATION: str | None = None

# The customer's own business, project or plans: a failure word right after one of
# these is about the customer, not the product ("our launch failed").
OWN_AFFAIRS: tuple[str, ...] = (
    "スタートアップ",
    "会社",
    "事業",
    "ビジネス",
    "お店",
    "店舗",
    "レストラン",
    "プロジェクト",
    "ローンチ",
    "立ち上げ",
    "キャンペーン",
    "資金調達",
    "売上",
    "計画",
    "試験",
    "予算",
)

CUES: dict[str, tuple[str, ...]] = {
    "refund": ("返金", "払い戻", "払戻", "返して", "返還"),
    "cancel": ("解約", "キャンセル", "退会", "停止して", "やめたい", "止めて"),
    "after_cancel": (
        "解約したのに",
        "解約後",
        "キャンセルしたのに",
        "退会したのに",
        "解約済",
        "解約した後",
        "キャンセル後",
        "退会後",
    ),
    "charged": ("請求", "引き落と", "課金", "更新され", "支払"),
    "surprise": (
        "予告なく",
        "知らないうちに",
        "勝手に",
        "通知なし",
        "通知もなく",
        "予告もなく",
        "無断で",
    ),
    "broken": (
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
    "duplicate": ("二重", "2回", "二回", "重複", "2つの", "二つの", "2件", "ダブって"),
    "invoices": ("請求書", "領収書", "インボイス", "明細"),
    "card": (
        "カード _ 変更",
        "カード _ 更新",
        "支払い方法 _ 変更",
        "支払方法 _ 変更",
        "新しいカード",
        "カードの期限",
    ),
    "seats": (
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
    "team": (
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
    "others": ("同僚", "チーム", "経理", "上司", "社員", "メンバー", "スタッフ"),
    "confused": ("なぜ", "どうして", "理解できない", "高すぎ"),
}
