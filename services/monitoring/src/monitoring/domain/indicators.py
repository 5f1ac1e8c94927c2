"""Every indicator once: its key in the figures, its Russian label, what it counts and its source.

The API serves this catalogue (``GET /indicators/definitions``), the pages take their labels from
it and both reports their captions, so one indicator reads the same and means the same wherever
a person meets it. Flows (``on_day`` False) count what happened between the period's first and
last day; stocks (``on_day`` True) are taken on the period's day: its last day, or today while
the period runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mentornet_events.labels_ru import label
from mentornet_events.vocabulary import EvaluationLevel

Unit = Literal["count", "share", "number"]

TARGET_MODEL = "Целевая модель наставничества (нацпроект «Образование»)"
SCHOOL_MODEL = "Положение о системе наставничества педагогических работников в ОО"
ROADMAP = "Дорожная карта наставника и наставляемого"
EVALUATION = "Оценка результатов программы по четырём уровням"


@dataclass(frozen=True, slots=True)
class Indicator:
    key: str  # the path in the figures: ``pairs.active``
    label: str  # Russian, as a caption
    short: str  # Russian, as a table's column header
    unit: Unit
    on_day: bool  # a stock taken on the period's day, else a flow over the period
    definition: str  # Russian: what is counted, so two people read one figure alike
    source: str  # the document the indicator comes from

    def value(self, figures: dict[str, Any]) -> Any:
        """The indicator's figure in ``figures`` (None where it is not computed)."""
        node: Any = figures
        for part in self.key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "short": self.short,
            "unit": self.unit,
            "on_day": self.on_day,
            "definition": self.definition,
            "source": self.source,
        }


def _i(
    key: str, label_: str, short: str, unit: Unit, on_day: bool, definition: str, source: str
) -> Indicator:
    return Indicator(key, label_, short, unit, on_day, definition, source)


INDICATORS: tuple[Indicator, ...] = (
    _i("schools", "Подключено организаций", "Организаций", "count", True,
       "Образовательные организации, подключённые к сети (не приостановленные и не отключённые).",
       SCHOOL_MODEL),
    _i("headcounts.teachers", "Педагогов", "Педагогов", "count", True,
       "Педагогические работники подключённых организаций по их последним данным (знаменатель охвата).",
       TARGET_MODEL),
    _i("headcounts.students", "Обучающихся", "Обучающихся", "count", True,
       "Обучающиеся подключённых организаций по их последним данным (знаменатель охвата).",
       TARGET_MODEL),
    _i("coverage.teachers", "Педагогов в наставничестве", "Педагогов в наставничестве", "count", False,
       "Педагоги, состоявшие в паре любой формы хотя бы один день периода (наставники и наставляемые).",
       TARGET_MODEL),
    _i("coverage.students", "Обучающихся в наставничестве", "Обучающихся в наставничестве", "count", False,
       "Обучающиеся, состоявшие в паре любой формы хотя бы один день периода.",
       TARGET_MODEL),
    _i("coverage.share", "Охват наставничеством", "Охват", "share", False,
       "Доля педагогов и обучающихся подключённых организаций, вовлечённых в любую форму наставничества "
       "в периоде: участник пары, работавшей хотя бы день периода, охвачен — в том числе если пара уже "
       "завершила работу.",
       TARGET_MODEL + ": к 2024 г. не менее 70 % обучающихся и педагогов вовлечены в наставничество"),
    _i("coverage.teachers_share", "Охват педагогов", "Охват педагогов", "share", False,
       "Доля педагогов подключённых организаций, вовлечённых в наставничество в периоде.",
       TARGET_MODEL),
    _i("coverage.students_share", "Охват обучающихся", "Охват обучающихся", "share", False,
       "Доля обучающихся подключённых организаций, вовлечённых в наставничество в периоде.",
       TARGET_MODEL),
    _i("coverage.target", "Целевой показатель охвата", "Цель", "share", True,
       "Национальная цель: не менее 70 % обучающихся и педагогов в различных формах наставничества.",
       TARGET_MODEL),
    _i("bases.mentors", "Наставников в базе", "Наставников", "count", True,
       "Участники базы наставников на дату (с согласием, не удалённые).",
       SCHOOL_MODEL),
    _i("bases.mentees", "Наставляемых в базе", "Наставляемых", "count", True,
       "Участники базы наставляемых на дату (с согласием, не удалённые).",
       SCHOOL_MODEL),
    _i("bases.mentors_in_pair", "Наставников в парах", "Наставников в парах", "count", True,
       "Наставники базы, чья пара работает на дату или завершила работу в периоде.",
       SCHOOL_MODEL),
    _i("bases.mentees_in_pair", "Наставляемых в парах", "Наставляемых в парах", "count", True,
       "Наставляемые базы, чья пара работает на дату или завершила работу в периоде; наставляемый "
       "расформированной пары снова ждёт пару.",
       SCHOOL_MODEL),
    _i("bases.mentees_waiting", "Наставляемых ждут пару", "Ждут пару", "count", True,
       "Наставляемые базы без работающей или завершившей работу в периоде пары.",
       SCHOOL_MODEL),
    _i("pairs.formed", "Пар сформировано за период", "Пар сформировано", "count", False,
       "Пары (и группы), сформированные приказом в периоде.",
       SCHOOL_MODEL),
    _i("pairs.active", "Работающих пар", "Пар работает", "count", True,
       "Пары, сформированные к дате и на дату не завершённые и не расформированные.",
       SCHOOL_MODEL),
    _i("pairs.completed", "Пар завершили работу за период", "Пар завершили", "count", False,
       "Пары, завершившие работу по программе в периоде.",
       SCHOOL_MODEL),
    _i("pairs.dissolved", "Пар расформировано за период", "Пар расформировано", "count", False,
       "Пары, расформированные досрочно в периоде (по любой причине).",
       SCHOOL_MODEL),
    _i("pairs.mentors_with_mentees", "Наставников с наставляемыми", "Наставников с наставляемыми", "count",
       True, "Наставники, у которых на дату есть работающая пара.", SCHOOL_MODEL),
    _i("pairs.mentees_per_mentor", "Наставляемых на одного наставника", "Наставляемых на наставника",
       "number", True, "Наставляемые работающих пар на одного наставника с парой, на дату.",
       SCHOOL_MODEL),
    _i("pairs.mentors_overloaded", "Наставников с нагрузкой сверх заявленной", "Наставников с перегрузкой",
       "count", True, "Наставники, у которых на дату наставляемых больше, чем они заявили.",
       SCHOOL_MODEL + ": риск высокой нагрузки на наставников"),
    _i("roadmaps.planned", "Пунктов дорожных карт запланировано", "Пунктов карт", "count", True,
       "Пункты действующих редакций дорожных карт пар, сформированных к дате.",
       ROADMAP),
    _i("roadmaps.completed", "Пунктов выполнено за период", "Выполнено за период", "count", False,
       "Пункты дорожных карт с отметкой о выполнении, датированной периодом.",
       ROADMAP),
    _i("roadmaps.completed_to_date", "Пунктов выполнено всего", "Выполнено всего", "count", True,
       "Пункты дорожных карт, выполненные к дате (с начала работы пар).",
       ROADMAP),
    _i("roadmaps.overdue", "Пунктов просрочено за период", "Просрочено пунктов", "count", False,
       "Пункты, срок которых истёк в периоде и которые к дате не выполнены.",
       ROADMAP),
    _i("roadmaps.completion_rate", "Доля выполненных пунктов", "Выполнение карт", "share", True,
       "Пункты, выполненные к дате, среди запланированных.",
       ROADMAP),
    _i("roadmaps.days_to_first_meeting", "Дней от формирования пары до первой встречи",
       "Дней до первой встречи", "number", False,
       "Среднее число дней от формирования пары до её первой встречи, по парам, сформированным в периоде.",
       ROADMAP),
    _i("feedback.forms", "Анкет обратной связи", "Анкет ОС", "count", False,
       "Анкеты обратной связи наставников и наставляемых, поданные в периоде.",
       EVALUATION),
    *(
        _i(f"feedback.mean_scores.{level.value}", f"Средний балл: {label(level)}",
           f"Ср. балл: {label(level)}", "number", False,
           f"Средняя оценка уровня «{label(level)}» (1–5) по анкетам периода.", EVALUATION)
        for level in EvaluationLevel
    ),
    _i("feedback.meetings", "Встреч проведено", "Встреч", "count", False,
       "Встречи пар, проведённые в периоде.", ROADMAP),
    _i("feedback.meetings_without_feedback", "Встреч без обязательной формы обратной связи",
       "Встреч без ОС", "count", False,
       "Встречи периода, по которым нет анкеты хотя бы одной стороны.",
       SCHOOL_MODEL + ": риск формализма"),
    _i("feedback.meetings_without_feedback_share", "Доля встреч без обратной связи", "Доля встреч без ОС",
       "share", False, "Встречи без анкеты хотя бы одной стороны среди встреч периода.",
       SCHOOL_MODEL + ": риск формализма"),
    _i("outcomes.young_specialists_cohort", "Молодых специалистов в базе не менее года",
       "Молодых специалистов (год в базе)", "count", True,
       "Молодые специалисты, вошедшие в базу наставляемых не позже чем за год до даты.",
       TARGET_MODEL + ": закрепление молодых специалистов в профессии"),
    _i("outcomes.young_specialists_retained", "Из них остаются в программе", "Остаются в программе",
       "count", True, "Те из них, кто на дату остаётся в базе наставляемых.",
       TARGET_MODEL + ": закрепление молодых специалистов в профессии"),
    _i("outcomes.want_to_become_mentors", "Наставляемых, желающих стать наставниками",
       "Хотят стать наставниками", "count", False,
       "Пары, в которых наставляемый в анкете периода ответил, что хочет стать наставником.",
       TARGET_MODEL + ": рост числа планирующих стать наставниками"),
)  # fmt: skip

BY_KEY: dict[str, Indicator] = {i.key: i for i in INDICATORS}


def indicator(key: str) -> Indicator:
    """The one definition of ``key`` (a KeyError names a key no catalogue entry has)."""
    return BY_KEY[key]
