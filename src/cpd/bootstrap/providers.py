"""The outside world, one builder per port: mail, payments, meetings, certificate rendering and
file storage. Each imports the adapter its settings choose, and only that one (Stripe,
aiobotocore and Typst load only where they are used)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cpd.bootstrap.container import Resources

if TYPE_CHECKING:
    from cpd.adapters.payments.offline import OfflineLedger
    from cpd.ports.certificates import CertificateRenderer
    from cpd.ports.events import VideoMeetings
    from cpd.ports.messaging import Mailer
    from cpd.ports.platform import Clock, FileStorage
    from cpd.ports.registrations import PaymentGateway
    from cpd.settings import Settings


def build_mailer(settings: Settings, resources: Resources) -> Mailer:
    if settings.mail_backend == "memory":
        from cpd.adapters.mail.mailers import MemoryMailer

        return MemoryMailer()
    if settings.mail_backend == "smtp":
        from cpd.adapters.mail.mailers import SmtpMailer

        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
        )
    from cpd.adapters.mail.mailers import FileOutboxMailer

    mailer = FileOutboxMailer(Path(settings.mail_outbox_dir), sender=settings.mail_from)
    resources.on_close(mailer.close)
    return mailer


def build_payments(
    settings: Settings, clock: Clock, offline_ledger: Callable[[], OfflineLedger | None]
) -> PaymentGateway:
    if settings.payment_provider == "stripe":
        from cpd.adapters.payments.stripe_gateway import StripeGateway

        assert settings.stripe_api_key  # Settings.check ensured both
        assert settings.stripe_webhook_secret
        return StripeGateway(
            settings.stripe_api_key,
            settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
        )
    from cpd.adapters.payments.offline import OfflineGateway

    return OfflineGateway(offline_ledger(), clock)


def build_video_meetings(settings: Settings) -> VideoMeetings:
    if settings.video_provider == "zoom":
        from cpd.adapters.meetings.zoom import ZoomMeetings

        assert settings.zoom_account_id  # Settings.check ensured all four
        assert settings.zoom_client_id
        assert settings.zoom_client_secret
        assert settings.zoom_webhook_secret
        return ZoomMeetings(
            account_id=settings.zoom_account_id,
            client_id=settings.zoom_client_id,
            client_secret=settings.zoom_client_secret,
            webhook_secret=settings.zoom_webhook_secret,
            api_base=settings.zoom_api_base or "https://api.zoom.us/v2",
            oauth_base=settings.zoom_oauth_base or "https://zoom.us",
        )
    from cpd.adapters.meetings.fake import DEV_WEBHOOK_SECRET, FakeVideoMeetings

    return FakeVideoMeetings(settings.zoom_webhook_secret or DEV_WEBHOOK_SECRET)


def build_certificate_renderer(settings: Settings, resources: Resources) -> CertificateRenderer:
    if settings.certificate_renderer == "fake":
        from cpd.adapters.documents.fake_certificates import FakeCertificateRenderer

        return FakeCertificateRenderer()
    from cpd.adapters.documents.typst_certificates import TypstCertificateRenderer

    renderer = TypstCertificateRenderer(
        font_dirs=[Path(folder) for folder in settings.certificate_font_paths],
        processes=settings.certificate_render_processes,
        render_seconds=settings.certificate_render_seconds,
        check_processes=settings.certificate_checks_at_once,
        check_seconds=settings.certificate_check_seconds,
        memory_mib=settings.certificate_render_memory_mib,
    )
    resources.on_close(renderer.close)
    return renderer


def build_file_storage(settings: Settings, resources: Resources) -> FileStorage:
    if settings.file_storage == "memory":
        from cpd.adapters.storage.files import MemoryFileStorage

        return MemoryFileStorage()
    if settings.file_storage == "s3":
        from cpd.adapters.storage.s3 import S3FileStorage

        assert settings.s3_bucket  # Settings.check ensured it
        bucket = S3FileStorage(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id or None,
            secret_access_key=settings.s3_secret_access_key or None,
        )
        resources.on_close(bucket.aclose)
        resources.probe(type(bucket).__name__, bucket.ping)
        return bucket
    from cpd.adapters.storage.files import LocalFileStorage

    files = LocalFileStorage(Path(settings.file_storage_dir))
    resources.on_close(files.close)
    return files
