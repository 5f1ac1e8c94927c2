"""The registry under schemathesis (see tests/fuzzing.py): two connected schools, three mentors.

Operations that end a school's or a participant's life run last, so they do not shut the others out.
"""

from __future__ import annotations

import pytest

from tests.fuzzing import ANONYMOUS, fuzz_service
from tests.registry.conftest import SCHOOLS, Network, mentor_body

pytestmark = [pytest.mark.nats, pytest.mark.db, pytest.mark.timeout(300)]

# Run last, in this order: each of them can close a school or a participant to the operations after it.
ENDS_OF_LIFE = (
    "POST /participants/{participant_id}/consent/{base}/withdraw",
    "DELETE /participants/{participant_id}",
    "DELETE /schools/{code}/credentials/{client_id}",
    "POST /schools/{code}/suspend",
    "POST /schools/{code}/resume",
    "POST /schools/{code}/disconnect",
)


async def test_no_operation_answers_with_a_server_error(network: Network) -> None:
    api = network.api
    participants = []  # two in the curator's school A, one in B
    for name, last_name in (("A", "Иванова"), ("A", "Петрова"), ("B", "Сидорова")):
        url = f"/schools/{SCHOOLS[name][0]}/mentors"
        created = await api.ok("POST", url, network.curator[name], json=mentor_body(last_name))
        participants.append(str(created["id"]))
    known = {
        "code": [code for code, _ in SCHOOLS.values()],
        "participant_id": participants,
        "client_id": [client_id for client_id, _ in network.credentials.values()],
        "municipality": [municipality for _, municipality in SCHOOLS.values()],
    }
    roles = {"regional operator": network.operator, "curator of A": network.curator["A"], ANONYMOUS: {}}
    table = await fuzz_service(api.client, roles, known, ends_of_life=ENDS_OF_LIFE)
    print(f"\n{table}")  # what the run reached, for -s
