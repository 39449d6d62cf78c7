"""Exports in the UI's language: a Keywords report per language, written as that UI writes it
(UTF-16 tab-separated with its title lines and total row for Google Ads; UTF-8 CSV with the report
header for Microsoft Advertising), read into the same rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from optimizer.io import read_performance

TODAY = dt.date(2026, 11, 26)
NNBSP = "\u202f"

# language: (title, header cells, (date, cost, clicks, impressions, conversions, value) x 2, total)
GOOGLE = {
    "en": (
        "Keyword report",
        ["Day", "Campaign", "Ad group", "Keyword", "Match type", "Cost", "Clicks", "Impr.",
         "Conversions", "Conv. value"],
        [("Nov 3, 2025", "1,234.56", "1,200", "15,000", "12.50", "2,500.00"),
         ("Nov 4, 2025", "7.10", "9", "80", "0.00", "0.00")],
        "Total: Account",
    ),
    "de": (
        "Keyword-Bericht",
        ["Tag", "Kampagne", "Anzeigengruppe", "Keyword", "Übereinstimmungstyp", "Kosten", "Klicks",
         "Impr.", "Conversions", "Conv.-Wert"],
        [("03.11.2025", "1.234,56", "1.200", "15.000", "12,50", "2.500,00"),
         ("04.11.2025", "7,10", "9", "80", "0,00", "0,00")],
        "Gesamt: Konto",
    ),
    "fr": (
        "Rapport sur les mots clés",
        ["Jour", "Campagne", "Groupe d'annonces", "Mot clé", "Type de correspondance", "Coût",
         "Clics", "Impr.", "Conversions", "Valeur de conv."],
        [("3 nov. 2025", f"1{NNBSP}234,56", f"1{NNBSP}200", f"15{NNBSP}000", "12,50",
          f"2{NNBSP}500,00"),
         ("4 nov. 2025", "7,10", "9", "80", "0,00", "0,00")],
        "Total : compte",
    ),
    "es": (
        "Informe de palabras clave",
        ["Día", "Campaña", "Grupo de anuncios", "Palabra clave", "Tipo de concordancia", "Coste",
         "Clics", "Impr.", "Conversiones", "Valor de conv."],
        [("3 nov. 2025", "1.234,56", "1.200", "15.000", "12,50", "2.500,00"),
         ("4 nov. 2025", "7,10", "9", "80", "0,00", "0,00")],
        "Total: cuenta",
    ),
    "it": (
        "Rapporto parole chiave",
        ["Giorno", "Campagna", "Gruppo di annunci", "Parola chiave", "Tipo di corrispondenza",
         "Costo", "Clic", "Impr.", "Conversioni", "Valore conv."],
        [("3 nov 2025", "1.234,56", "1.200", "15.000", "12,50", "2.500,00"),
         ("4 nov 2025", "7,10", "9", "80", "0,00", "0,00")],
        "Totale: account",
    ),
    "pt": (
        "Relatório de palavras-chave",
        ["Dia", "Campanha", "Grupo de anúncios", "Palavra-chave", "Tipo de correspondência",
         "Custo", "Cliques", "Impr.", "Conversões", "Valor conv."],
        [("3 de nov. de 2025", "1.234,56", "1.200", "15.000", "12,50", "2.500,00"),
         ("4 de nov. de 2025", "7,10", "9", "80", "0,00", "0,00")],
        "Total: conta",
    ),
    "nl": (
        "Zoekwoordrapport",
        ["Dag", "Campagne", "Advertentiegroep", "Zoekwoord", "Zoektype", "Kosten", "Klikken",
         "Vertoningen", "Conversies", "Conv.waarde"],
        [("3 nov. 2025", "1.234,56", "1.200", "15.000", "12,50", "2.500,00"),
         ("4 nov. 2025", "7,10", "9", "80", "0,00", "0,00")],
        "Totaal: account",
    ),
    "pl": (
        "Raport słów kluczowych",
        ["Dzień", "Kampania", "Grupa reklam", "Słowo kluczowe", "Typ dopasowania", "Koszt",
         "Kliknięcia", "Wyśw.", "Konwersje", "Wartość konw."],
        [("3 lis 2025", "1\u00a0234,56", "1\u00a0200", "15\u00a0000", "12,50", "2\u00a0500,00"),
         ("4 lis 2025", "7,10", "9", "80", "0,00", "0,00")],
        "Łącznie: konto",
    ),
    "tr": (
        "Anahtar kelime raporu",
        ["Gün", "Kampanya", "Reklam grubu", "Anahtar kelime", "Eşleme türü", "Maliyet",
         "Tıklamalar", "Gösterim", "Dönüşümler", "Dönüşüm değeri"],
        [("3 Kas 2025", "1.234,56", "1.200", "15.000", "12,50", "2.500,00"),
         ("4 Kas 2025", "7,10", "9", "80", "0,00", "0,00")],
        "Toplam: hesap",
    ),
    "fa": (
        "گزارش کلمات کلیدی",
        ["روز", "کمپین", "گروه تبلیغاتی", "کلمه کلیدی", "نوع تطابق", "هزینه", "کلیک‌ها",
         "نمایش‌ها", "تبدیل‌ها", "ارزش تبدیل"],
        [("۲۰۲۵-۱۱-۰۳", "۱٬۲۳۴٫۵۶", "۱٬۲۰۰", "۱۵٬۰۰۰", "۱۲٫۵۰", "۲٬۵۰۰٫۰۰"),
         ("۲۰۲۵-۱۱-۰۴", "۷٫۱۰", "۹", "۸۰", "۰٫۰۰", "۰٫۰۰")],
        "مجموع: حساب",
    ),
}  # fmt: skip


def _google_export(language: str) -> bytes:
    title, header, rows, total = GOOGLE[language]
    lines = [title, "3 - 4 November 2025", "\t".join(header)]
    for day, cost, clicks, impressions, conversions, value in rows:
        cells = [day, "Brand", "Shoes", "red shoes", "Exact", cost, clicks, impressions,
                 conversions, value]  # fmt: skip
        lines.append("\t".join(cells))
    lines.append("\t".join([total, "", "", "", "", "", "", "", "", ""]))
    return ("\r\n".join(lines) + "\r\n").encode("utf-16")


@pytest.mark.parametrize("language", sorted(GOOGLE), ids=str)
def test_google_ads_keyword_report_in_the_uis_language(tmp_path: Path, language: str) -> None:
    path = tmp_path / f"keywords-{language}.csv"
    path.write_bytes(_google_export(language))
    result = read_performance(path, today=TODAY)
    assert result.errors == (), [issue.describe() for issue in result.errors]
    assert result.format == "google_ads"
    frame = result.frame
    assert frame["date"].tolist() == [pd.Timestamp("2025-11-03"), pd.Timestamp("2025-11-04")]
    assert frame["spend_micros"].tolist() == [1_234_560_000, 7_100_000]
    assert frame["clicks"].tolist() == [1_200, 9]
    assert frame["impressions"].tolist() == [15_000, 80]
    assert frame["conversions_micros"].tolist() == [12_500_000, 0]
    assert frame["value_micros"].tolist() == [2_500_000_000, 0]
    assert set(frame["platform"]) == {"google_ads"}
    assert frame["keyword"].astype(str).tolist() == ["red shoes", "red shoes"]


MICROSOFT = {
    "en": ["Gregorian date", "Campaign name", "Ad group", "Keyword", "Bid match type", "Spend",
           "Impressions", "Clicks", "Conversions", "Revenue"],
    "de": ["Gregorianisches Datum", "Kampagnenname", "Anzeigengruppe", "Keyword",
           "Gebots-Übereinstimmungstyp", "Ausgaben", "Impressionen", "Klicks", "Conversions",
           "Umsatz"],
    "fr": ["Date grégorienne", "Nom de la campagne", "Groupe d'annonces", "Mot clé",
           "Type de correspondance de l'enchère", "Dépense", "Impressions", "Clics",
           "Conversions", "Chiffre d'affaires"],
    "es": ["Fecha gregoriana", "Nombre de la campaña", "Grupo de anuncios", "Palabra clave",
           "Tipo de concordancia de puja", "Gasto", "Impresiones", "Clics", "Conversiones",
           "Ingresos"],
    "it": ["Data gregoriana", "Nome campagna", "Gruppo di annunci", "Parola chiave",
           "Tipo di corrispondenza offerta", "Spesa", "Impressioni", "Clic", "Conversioni",
           "Ricavi"],
    "pt": ["Data gregoriana", "Nome da campanha", "Grupo de anúncios", "Palavra-chave",
           "Tipo de correspondência de lance", "Gasto", "Impressões", "Cliques", "Conversões",
           "Receita"],
    "nl": ["Gregoriaanse datum", "Campagnenaam", "Advertentiegroep", "Trefwoord",
           "Type biedingsovereenkomst", "Uitgaven", "Vertoningen", "Klikken", "Conversies",
           "Opbrengst"],
}  # fmt: skip


@pytest.mark.parametrize("language", sorted(MICROSOFT), ids=str)
def test_microsoft_keyword_report_in_the_uis_language(tmp_path: Path, language: str) -> None:
    comma = language != "en"
    money = "1.234,56" if comma else "1,234.56"
    rows = [
        ["13/11/2025" if comma else "11/13/2025", "Brand", "Shoes", "red shoes", "Exact",
         money, "150", "12", "2", "80,00" if comma else "80.00"],
        ["03/11/2025" if comma else "11/03/2025", "Brand", "Shoes", "red shoes", "Exact",
         "7,10" if comma else "7.10", "80", "9", "0", "0"],
    ]  # fmt: skip
    lines = [
        '"Report Name: Keywords"',
        "",
        ",".join(f'"{cell}"' for cell in MICROSOFT[language]),
        *(",".join(f'"{cell}"' for cell in row) for row in rows),
        "",
        '"©2025 Microsoft Corporation. All rights reserved."',
    ]
    path = tmp_path / f"ms-{language}.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    result = read_performance(path, today=TODAY)
    assert result.errors == (), [issue.describe() for issue in result.errors]
    assert result.format == "microsoft_ads"
    assert result.frame["date"].tolist() == [pd.Timestamp("2025-11-13"), pd.Timestamp("2025-11-03")]
    assert result.frame["spend_micros"].tolist() == [1_234_560_000, 7_100_000]
    assert set(result.frame["platform"]) == {"microsoft_ads"}
