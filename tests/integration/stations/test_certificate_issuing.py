"""The CSMS CA on a real database (SQLite and PostgreSQL): SignCertificate decisions, what is
recorded, delivery as CertificateSigned, and renewal ahead of expiry (OCPP 2.0.1 A02/A03)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from chargegrid.stations.certificates.authority import create_authority
from chargegrid.stations.certificates.issuing import CertificateIssuer, IssuerSettings
from chargegrid.stations.certificates.renewal import CertificateRenewal
from chargegrid.stations.gateway import StationUnreachable
from chargegrid.stations.models import IssuedCertificateRow, StationRow
from chargegrid.stations.reconcile import BackgroundTasks
from tests.integration.stations.builders import T0, FakeClock
from tests.integration.stations.conftest import Database


@dataclass
class FakeCommands:
    """The gateway: records what is sent; stations in `offline` are unreachable."""

    delivered: list[tuple[str, str, str]] = field(default_factory=list)
    triggered: list[tuple[str, str]] = field(default_factory=list)
    offline: set[str] = field(default_factory=set)
    answer: str = "Accepted"

    async def certificate_signed(self, station_id: str, chain: str, kind: str) -> str:
        if station_id in self.offline:
            raise StationUnreachable("offline")
        self.delivered.append((station_id, chain, kind))
        return self.answer

    async def trigger(self, station_id: str, message: str) -> str:
        if station_id in self.offline:
            raise StationUnreachable("offline")
        self.triggered.append((station_id, message))
        return self.answer


def a_csr(common_name: str, organization: str = "") -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names))
    return csr.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


async def register(db: Database, *station_ids: str) -> None:
    async with db.sessions() as session, session.begin():
        for station_id in station_ids:
            session.add(StationRow(id=station_id, registration_status="Accepted", created_at=T0))


def issuer_for(
    db: Database, clock: FakeClock, commands: FakeCommands, tasks: BackgroundTasks, **kw: object
) -> CertificateIssuer:
    authority = create_authority("Test CSMS CA", T0, timedelta(days=3650))
    settings = IssuerSettings(
        validity=timedelta(days=365),
        organization=str(kw.get("organization", "")),
        delivery_delay_s=0.0,
        delivery_attempts=2,
    )
    v2g = create_authority("Test V2G CA", T0, timedelta(days=3650)) if kw.get("v2g") else None
    return CertificateIssuer(db.sessions, clock, commands, tasks, authority, v2g, settings)  # type: ignore[arg-type]


async def issued(db: Database) -> list[IssuedCertificateRow]:
    async with db.sessions() as session:
        return list(await session.scalars(select(IssuedCertificateRow)))


async def test_A02_A03_accepted_csr_is_signed_and_sent_as_certificate_signed(
    db: Database, clock: FakeClock
) -> None:
    await register(db, "CS-1")
    commands, tasks = FakeCommands(), BackgroundTasks()
    issuer = issuer_for(db, clock, commands, tasks)

    decision = await issuer.sign("CS-1", a_csr("CS-1"), "ChargingStationCertificate")
    await tasks.idle()

    assert decision.status == "Accepted"
    [(station_id, chain, kind)] = commands.delivered
    assert (station_id, kind) == ("CS-1", "ChargingStationCertificate")
    leaf, ca = x509.load_pem_x509_certificates(chain.encode())
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS-1"
    assert leaf.issuer == ca.subject == issuer.authority.certificate.subject
    leaf.verify_directly_issued_by(ca)
    [row] = await issued(db)
    assert (row.serial, row.delivery) == (decision.serial, "delivered")
    assert row.not_after == leaf.not_valid_after_utc == T0 + timedelta(days=365)


async def test_A02_csr_for_another_station_is_rejected_and_nothing_issued(
    db: Database, clock: FakeClock
) -> None:
    await register(db, "CS-1", "CS-2")
    commands, tasks = FakeCommands(), BackgroundTasks()
    issuer = issuer_for(db, clock, commands, tasks)

    decision = await issuer.sign("CS-1", a_csr("CS-2"), "ChargingStationCertificate")
    await tasks.idle()

    assert (decision.status, decision.reason) == ("Rejected", "InvalidCSR")
    assert "CS-2" in decision.detail
    assert commands.delivered == []
    assert await issued(db) == []


async def test_malformed_csr_wrong_organization_and_unknown_station_are_rejected(
    db: Database, clock: FakeClock
) -> None:
    await register(db, "CS-1")
    commands, tasks = FakeCommands(), BackgroundTasks()
    issuer = issuer_for(db, clock, commands, tasks, organization="ChargeGrid CPO")

    garbage = await issuer.sign("CS-1", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", "")
    wrong_org = await issuer.sign("CS-1", a_csr("CS-1", "Other CPO"), "")
    unknown = await issuer.sign("CS-9", a_csr("CS-9", "ChargeGrid CPO"), "")
    right = await issuer.sign("CS-1", a_csr("CS-1", "ChargeGrid CPO"), "")
    await tasks.idle()

    assert [d.status for d in (garbage, wrong_org, unknown, right)] == [
        "Rejected",
        "Rejected",
        "Rejected",
        "Accepted",
    ]
    assert (garbage.reason, wrong_org.reason, unknown.reason) == (
        "InvalidCSR",
        "InvalidCSR",
        "UnknownStation",
    )
    assert [row.serial for row in await issued(db)] == [right.serial]
    # 1.6 and 2.x without certificateType: CertificateSigned carries no type either.
    assert [kind for _, _, kind in commands.delivered] == [""]


async def test_A02_v2g_csr_is_rejected_without_a_v2g_ca_and_signed_by_it_with_one(
    db: Database, clock: FakeClock
) -> None:
    await register(db, "CS-1")
    commands, tasks = FakeCommands(), BackgroundTasks()
    without = issuer_for(db, clock, commands, tasks)
    with_v2g = issuer_for(db, clock, commands, tasks, v2g=True)

    refused = await without.sign("CS-1", a_csr("CS-1"), "V2GCertificate")
    signed = await with_v2g.sign("CS-1", a_csr("CS-1"), "V2GCertificate")
    await tasks.idle()

    assert (refused.status, refused.reason) == ("Rejected", "NoV2GCA")
    assert signed.status == "Accepted"
    [(_, chain, kind)] = commands.delivered
    assert kind == "V2GCertificate"
    assert with_v2g.v2g_authority is not None
    leaf = x509.load_pem_x509_certificates(chain.encode())[0]
    assert leaf.issuer == with_v2g.v2g_authority.certificate.subject


async def test_undelivered_certificate_is_recorded_as_failed(
    db: Database, clock: FakeClock
) -> None:
    await register(db, "CS-1")
    commands, tasks = FakeCommands(offline={"CS-1"}), BackgroundTasks()
    issuer = issuer_for(db, clock, commands, tasks)

    await issuer.sign("CS-1", a_csr("CS-1"), "")
    await tasks.idle()

    [row] = await issued(db)
    assert row.delivery == "failed"


async def test_A02_renewal_is_triggered_ahead_of_expiry_once_and_again_after_a_miss(
    db: Database, clock: FakeClock
) -> None:
    await register(db, "CS-1", "CS-2")
    commands, tasks = FakeCommands(), BackgroundTasks()
    issuer = issuer_for(db, clock, commands, tasks)
    first = await issuer.sign("CS-1", a_csr("CS-1"), "ChargingStationCertificate")
    await issuer.sign("CS-2", a_csr("CS-2"), "ChargingStationCertificate")
    await tasks.idle()
    renewal = CertificateRenewal(db.sessions, clock, commands, timedelta(days=30), 3600)

    assert await renewal.check() == []  # a year left: nothing due
    clock.advance(timedelta(days=340).total_seconds())
    commands.offline = {"CS-2"}
    assert await renewal.check() == [first.serial]
    assert commands.triggered == [("CS-1", "SignChargingStationCertificate")]
    assert await renewal.check() == []  # CS-1 was asked; CS-2 still offline
    commands.offline = set()
    assert len(await renewal.check()) == 1
    assert commands.triggered[-1] == ("CS-2", "SignChargingStationCertificate")

    # The station's new CSR supersedes the old certificate; the new one is not due.
    await issuer.sign("CS-1", a_csr("CS-1"), "ChargingStationCertificate")
    await tasks.idle()
    rows = {row.serial: row for row in await issued(db)}
    assert rows[first.serial].superseded
    assert await renewal.check() == []
