"""The pages in Debian's Chromium against the system started as ``mentornet up`` starts it.

One story, in order: a curator imports a mentor base with a bad row and sees it, then a good one;
forms a pair from the matching suggestion; the mentor completes a roadmap item and gives feedback;
the institute's dashboard shows it; a curator of school A gets a refusal on school B's pages.
Screenshots of the main pages go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Api, People, System, screenshot

CURATOR_PASSWORD = "curator-password-1"
MENTOR_PASSWORD = "mentor-password-1"
HEADER = "Фамилия;Имя;Email;Предметы;Стаж;Категория;Компетенции;Часов в месяц;Макс. наставляемых;Согласие"
GOOD = "Иванова;Мария;ivanova@example.org;математика;15;высшая;методическая, ИКТ-компетенции;8;2;да"
BAD = "Попов;Иван;ivan@example.org;история;10;первая;астрология;4;1;да"  # line 3: no such competency


def eventually(check: Callable[[], Any], seconds: float = 20.0, every: float = 0.5) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(every)


@pytest.fixture(scope="module")
def network(system: System, api: Api) -> dict[str, Any]:
    """Two schools of one municipality, each with a curator; school A has a mentee and a programme."""
    operator = api.login("operator", system.operator_password())
    api.ok(8101, "POST", "/municipalities", operator, json={"code": "m1", "name": "Ангарский округ"})
    ids: dict[str, Any] = {"operator": operator}
    for code, name in (("sch-a", "МБОУ СОШ № 1"), ("sch-b", "МБОУ СОШ № 2")):
        school = {"code": code, "municipality": "m1", "name": name, "teachers": 10, "students": 0}
        api.ok(8101, "POST", "/schools", operator, json=school)
        account = {"username": f"curator.{code}", "password": CURATOR_PASSWORD, "role": "school_curator"}
        api.ok(8101, "POST", "/accounts", operator, json=account | {"school": code})
        ids[code] = api.login(f"curator.{code}", CURATOR_PASSWORD)
    mentee = {
        "person": {"last_name": "Петрова", "first_name": "Анна", "birth_date": "1999-05-01"},
        "entry": {
            "subjects": ["математика"],
            "experience_years": 1,
            "young_specialist": True,
            "deficits": ["methodological", "ict"],
        },
    }
    ids["mentee"] = api.ok(8101, "POST", "/schools/sch-a/mentees", ids["sch-a"], json=mentee)["id"]
    programme = {  # school B's: what school A's curator must not see
        "title": "Наставничество молодых педагогов",
        "form": "teacher_teacher",
        "starts_on": date.today().isoformat(),
    }
    ids["programme-sch-b"] = api.ok(8102, "POST", "/programmes", ids["sch-b"], json=programme)["id"]
    municipal = {"username": "mo.m1", "password": CURATOR_PASSWORD, "role": "municipal_operator"}
    api.ok(8101, "POST", "/accounts", operator, json=municipal | {"municipality": "m1"})
    return ids


def test_curator_imports_a_base_and_sees_the_bad_row(
    people: People, network: dict[str, Any], tmp_path: Path
) -> None:
    page = people.sign_in("curator", "curator.sch-a", CURATOR_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("МБОУ СОШ № 1")
    page.get_by_role("link", name="Наставники").first.click()
    bad = tmp_path / "наставники.csv"
    bad.write_text("\n".join([HEADER, GOOD, BAD]) + "\n", encoding="utf-8")
    page.get_by_label("Файл").set_input_files(str(bad))
    page.get_by_role("button", name="Загрузить").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("ничего не внесено")
    expect(report.locator("table.errors tbody tr")).to_have_count(1)
    expect(report.locator("table.errors tbody td").first).to_have_text("3")
    expect(report).to_contain_text("астрология")
    screenshot(page, "curator-import-errors")
    good = tmp_path / "наставники-исправлено.csv"
    good.write_text("\n".join([HEADER, GOOD]) + "\n", encoding="utf-8")
    page.get_by_label("Файл").set_input_files(str(good))
    page.get_by_role("button", name="Загрузить").click()
    expect(report).to_contain_text("Загружено из «наставники-исправлено.csv»: 1 из 1")
    page.reload()
    expect(page.locator("#participants tbody tr")).to_have_count(1)
    expect(page.locator("#participants")).to_contain_text("Иванова Мария")
    expect(page.locator("#participants")).to_contain_text("дано")
    screenshot(page, "curator-mentor-base")


def test_curator_forms_a_pair_from_the_suggestion(people: People, network: dict[str, Any]) -> None:
    page = people.page("curator")
    page.get_by_role("link", name="Программы").click()
    page.get_by_label("Название").fill("Адаптация молодых педагогов")
    page.get_by_label("Форма наставничества").select_option("teacher_teacher")
    page.get_by_role("button", name="Запустить").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Адаптация молодых педагогов")
    programme = network["programme-sch-a"] = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.get_by_label("Перевести на этап").select_option("pairing")
    page.get_by_role("button", name="Перевести").click()
    expect(page.locator('.stages [aria-current="step"]')).to_have_text("формирование пар и групп")

    def suggested() -> None:  # the programs service learns of the new mentor from the registry's events
        page.goto(f"/programmes/{programme}?proposal=true")
        expect(page.locator("#proposal")).to_contain_text("Иванова Мария", timeout=1000)

    eventually(suggested)
    expect(page.locator("#proposal")).to_contain_text("Петрова Анна")
    expect(page.locator("#proposal .why").first).to_contain_text("дефицит", ignore_case=True)
    screenshot(page, "curator-matching")
    page.locator("#proposal").get_by_role("button", name="Закрепить пару").first.click()
    expect(page.get_by_role("status")).to_contain_text("Пара закреплена")
    expect(page.locator("#pairs-table")).to_contain_text("Иванова Мария")
    expect(page.locator("#pairs-table")).to_contain_text("работает")
    page.get_by_label("Перевести на этап").select_option("work")
    page.get_by_role("button", name="Перевести").click()
    expect(page.get_by_role("status")).to_contain_text("переведена")
    expect(page.locator('.stages [aria-current="step"]')).to_have_text("работа пар и групп")
    page.locator("#pairs-table").get_by_role("link", name="Дорожная карта и встречи").click()
    page.get_by_role("button", name="Составить").click()
    expect(page.locator("table.roadmap tbody tr")).to_have_count(13)
    screenshot(page, "curator-roadmap")
    # the curator gives the mentor and the mentee a sign-in from each one's page
    _give_sign_in(page, "mentor", "Иванова Мария", "ivanova")
    _give_sign_in(page, "mentee", "Петрова Анна", "petrova")


def _give_sign_in(page: Page, base: str, name: str, username: str) -> None:
    page.goto(f"/schools/sch-a/participants?base={base}")
    page.get_by_role("link", name=name).click()
    page.get_by_label("Имя пользователя").fill(username)
    page.get_by_label("Пароль (не короче 10 знаков)").fill(MENTOR_PASSWORD)
    page.get_by_role("button", name="Создать").click()
    expect(page.get_by_role("status")).to_contain_text(f"Учётная запись {username} создана")


def test_the_mentor_completes_an_item_and_gives_feedback(people: People, network: dict[str, Any]) -> None:
    page = people.sign_in("mentor", "ivanova", MENTOR_PASSWORD, mobile=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Мои пары")
    page.get_by_role("link", name="Пара: учитель – учитель").click()
    first = page.locator("table.roadmap tbody tr").first
    first.get_by_text("Отметить выполнение").click()
    first.get_by_label("Педагогический продукт").fill("конспект открытого урока")
    first.get_by_role("button", name="Выполнено").click()
    expect(page.get_by_role("status")).to_contain_text("Пункт отмечен выполненным")
    expect(page.locator("table.roadmap tbody tr").first).to_contain_text("конспект открытого урока")
    page.get_by_label("Встреча").select_option("acquaintance")
    page.get_by_role("button", name="Записать").click()
    expect(page.get_by_role("status")).to_contain_text("Встреча записана")
    form = page.locator("form.feedback-form")
    for level in ("реакция", "изменение знаний", "изменение поведения", "результаты для организации"):
        form.get_by_role("group", name=level).get_by_label("5").check()
    form.get_by_label("Комментарий").fill("Полезная встреча")
    form.get_by_role("button", name="Отправить форму").click()
    expect(page.get_by_role("status")).to_contain_text("Форма обратной связи отправлена")
    expect(page.locator("form.feedback-form")).to_have_count(0)
    screenshot(page, "mentor-pair-phone")


def test_the_mentee_gives_feedback_too(people: People, network: dict[str, Any]) -> None:
    page = people.sign_in("mentee", "petrova", MENTOR_PASSWORD)
    page.get_by_role("link", name="Пара: учитель – учитель").click()
    expect(page.locator("main")).to_contain_text("Вы — наставляемый в этой паре")
    expect(page.get_by_role("button", name="Записать")).to_have_count(0)  # the mentor records meetings
    form = page.locator("form.feedback-form")
    for level in ("реакция", "изменение знаний", "изменение поведения", "результаты для организации"):
        form.get_by_role("group", name=level).get_by_label("4").check()
    form.get_by_label("Хочу сам(а) стать наставником").check()
    form.get_by_role("button", name="Отправить форму").click()
    expect(page.get_by_role("status")).to_contain_text("Форма обратной связи отправлена")
    expect(page.locator("main")).to_contain_text("Обе формы заполнены")


def test_the_regional_dashboard_shows_the_new_figures(people: People, network: dict[str, Any]) -> None:
    page = people.sign_in("operator", "operator", people.system.operator_password())
    expect(page.get_by_role("heading", level=1)).to_contain_text("Мониторинг")

    def figures() -> None:  # monitoring learns of it all from the streams
        page.goto("/dashboard?fresh=true")
        expect(page.locator('[data-figure="pairs-active"]')).to_have_text("1", timeout=1000)
        expect(page.locator('[data-figure="items-done"]')).to_have_text("1", timeout=1000)
        expect(page.locator('[data-figure="feedback-forms"]')).to_have_text("2", timeout=1000)

    eventually(figures, seconds=30)
    # a mentor and a mentee of the 20 teachers of the two schools
    expect(page.locator('[data-figure="coverage"]')).to_have_text("10,0 %")
    for chart in ("coverage-chart", "pairs-chart", "roadmaps-chart", "feedback-chart"):
        expect(page.locator(f"#{chart}")).to_have_attribute("data-drawn", "true")
    expect(page.locator('[data-score="reaction"]')).to_have_text("4,5")  # the mentor's 5, the mentee's 4
    expect(page.locator(".risks")).to_contain_text("Ангарский округ")
    screenshot(page, "region-dashboard")
    report = page.request.get("/reports/yearly.xlsx?level=region")
    assert report.status == 200 and report.body()[:2] == b"PK"  # an XLSX is a zip
    assert "attachment" in report.headers["content-disposition"]
    page.get_by_role("link", name="Ангарский округ").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ангарский округ")
    page.get_by_role("link", name="МБОУ СОШ № 1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("МБОУ СОШ № 1")
    screenshot(page, "school-dashboard")
    page.goto("/schools")
    screenshot(page, "region-schools")
    page.goto("/schools/sch-a/admin")
    page.get_by_role("button", name="Выдать новые учётные данные").click()
    expect(page.locator("[data-client-secret]")).to_be_visible()
    page.get_by_role("button", name="Отозвать").click()
    expect(page.get_by_role("status")).to_contain_text("отозваны")
    page.get_by_role("link", name="Рассылка").click()
    page.get_by_label("Тема").fill("Семинар для кураторов")
    page.get_by_label("Текст").fill("Приглашаем кураторов на семинар в четверг.")
    page.get_by_role("button", name="Отправить").click()
    expect(page.get_by_role("status")).to_contain_text("организаций — 2")
    # a new municipality, a school connected from the form, another's application approved
    page.goto("/schools")
    municipality = page.locator(
        "form", has=page.get_by_role("heading", name="Зарегистрировать муниципалитет")
    )
    municipality.get_by_label("Код").fill("m2")
    municipality.get_by_label("Название").fill("Братский район")
    municipality.get_by_role("button", name="Зарегистрировать").click()
    expect(page.get_by_role("status")).to_contain_text("Муниципалитет «Братский район» зарегистрирован")
    school = page.locator("form", has=page.get_by_role("heading", name="Подключить организацию"))
    school.get_by_label("Код").fill("sch-c")
    school.get_by_label("Название").fill("МБОУ СОШ № 3")
    school.get_by_label("Муниципалитет").select_option("m2")
    school.get_by_label("Педагогов").fill("30")
    school.get_by_label("Обучающихся").fill("300")
    school.get_by_role("button", name="Подключить").click()
    expect(page.get_by_role("status")).to_contain_text("Организация «МБОУ СОШ № 3» подключена")
    application = {
        "code": "sch-d",
        "municipality": "m2",
        "name": "МБОУ СОШ № 4",
        "teachers": 5,
        "students": 50,
    }
    assert page.request.post(people.system.service(8101) + "/schools/applications", data=application).ok
    page.reload()
    page.get_by_role("button", name="Одобрить").click()
    expect(page.get_by_role("status")).to_contain_text("Заявка одобрена")
    expect(page.locator("table")).to_contain_text("МБОУ СОШ № 4")
    # the institute makes the sign-ins of a municipality's operator and of the new school's curator
    operator = page.locator("form", has=page.get_by_role("heading", name="Вход для муниципального оператора"))
    operator.get_by_label("Муниципалитет").select_option("m2")
    operator.get_by_label("Имя пользователя").fill("operator.m2")
    operator.get_by_label("Пароль (не короче 10 знаков)").fill("operator-m2-password")
    operator.get_by_role("button", name="Создать вход оператора").click()
    expect(page.get_by_role("status")).to_contain_text("Учётная запись operator.m2 создана")
    page.goto("/schools/sch-c/admin")
    page.get_by_label("Имя пользователя").fill("curator.sch-c")
    page.get_by_label("Пароль (не короче 10 знаков)").fill("curator-c-password")
    page.get_by_role("button", name="Создать вход куратора").click()
    expect(page.get_by_role("status")).to_contain_text("Учётная запись curator.sch-c создана")
    municipal = people.sign_in("operator.m2", "operator.m2", "operator-m2-password")
    expect(municipal.get_by_role("heading", level=1)).to_contain_text("Братский район")
    curator = people.sign_in("curator.sch-c", "curator.sch-c", "curator-c-password")
    expect(curator.get_by_role("heading", level=1)).to_contain_text("МБОУ СОШ № 3")


def test_a_curator_of_school_a_is_refused_school_b(people: People, network: dict[str, Any]) -> None:
    page = people.page("curator")
    for path in ("/schools/sch-b/participants?base=mentor", "/schools/sch-b/programmes", "/schools/sch-b"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Нет доступа")
        expect(page.locator(".refusal")).to_contain_text("другой организации")
    answer = page.goto(f"/programmes/{network['programme-sch-b']}")
    assert answer is not None and answer.status in (403, 404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Нет доступа")
    assert "Наставничество молодых педагогов" not in page.content()
    answer = page.goto("/dashboard")  # the region's dashboard is the institute's
    assert answer is not None and answer.status == 403
    screenshot(page, "curator-refused")


def test_the_curator_keeps_the_mentee_base_by_hand_and_reads_the_inbox(
    people: People, network: dict[str, Any], api: Api
) -> None:
    page = people.page("curator")
    page.goto("/schools/sch-a/participants?base=mentee")
    form = page.locator("form", has=page.get_by_role("heading", name="Внести вручную"))
    form.get_by_label("Фамилия").fill("Сидоров")
    form.get_by_label("Имя", exact=True).fill("Пётр")
    form.get_by_label("Предметы (через запятую)").fill("физика")
    form.get_by_label("ИКТ-компетенции").check()
    form.get_by_role("button", name="Внести в базу").click()
    expect(page.get_by_role("status")).to_contain_text("Сидоров Пётр внесён(а) в базу")
    page.get_by_role("link", name="Сидоров Пётр").click()
    page.get_by_label("Предметы (через запятую)").fill("физика, астрономия")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_contain_text("Изменения сохранены")
    expect(page.get_by_label("Предметы (через запятую)")).to_have_value("физика, астрономия")
    # an edit keeps what the form does not show (the birth date lives only in the registry)
    page.goto("/schools/sch-a/participants?base=mentee")
    page.get_by_role("link", name="Петрова Анна").click()
    page.get_by_label("Телефон").fill("+7 900 111-22-33")
    page.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("status")).to_contain_text("Изменения сохранены")
    stored = api.ok(8101, "GET", f"/participants/{network['mentee']}", network["sch-a"])["person"]
    assert stored["phone"] == "+7 900 111-22-33" and stored["birth_date"] == "1999-05-01"
    page.get_by_role("link", name="Входящие").click()
    expect(page.locator(".messages")).to_contain_text("Семинар для кураторов")
    page.get_by_role("button", name="Отметить прочитанным").first.click()
    expect(page.locator(".messages .read").first).to_have_text("прочитано")
    screenshot(page, "curator-inbox")
    page.goto(f"/programmes/{network['programme-sch-a']}")

    def candidates() -> None:  # the new mentee reaches the programs service through the streams
        page.reload()
        item = page.locator("li", has_text="Сидоров Пётр")
        item.get_by_role("button", name="показать наставников").click()
        expect(item.locator("table.candidates")).to_contain_text("Иванова Мария", timeout=1000)

    eventually(candidates)
    page.locator("table.candidates").get_by_role("button", name="Закрепить пару").click()
    expect(page.get_by_role("status")).to_contain_text("Пара закреплена")
    expect(page.locator("#pairs-table tbody tr")).to_have_count(2)
    report = page.request.get(f"/programmes/{network['programme-sch-a']}/report.xlsx")
    assert report.status == 200 and report.body()[:2] == b"PK"


def test_the_municipal_operator_sees_its_municipality_only(people: People, network: dict[str, Any]) -> None:
    page = people.sign_in("municipal", "mo.m1", CURATOR_PASSWORD, mobile=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Мониторинг: Ангарский округ")
    expect(page.locator("#coverage-chart")).to_have_attribute("data-drawn", "true")
    expect(page.locator("table").first).to_contain_text("МБОУ СОШ № 2")
    screenshot(page, "municipality-dashboard-phone")
    for path in ("/dashboard", "/dashboard/municipalities/m2", "/schools"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403, path


def test_no_page_broke_its_content_security_policy(people: People) -> None:
    assert people.errors == []
