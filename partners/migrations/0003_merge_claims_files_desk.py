# The three changes of partners made side by side (creators' claims, file filings, the desk),
# joined; the audit kinds each added, in one list.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0002_claims_creators"),
        ("partners", "0002_filefiling_file_filings"),
        ("partners", "0002_partnerdesk_desk"),
    ]

    operations = [
        migrations.AlterField(
            model_name="partneraction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("partner_created", "partner created"),
                    ("partner_changed", "partner changed"),
                    ("partner_suspended", "partner suspended"),
                    ("partner_reinstated", "partner reinstated"),
                    ("domain_added", "domain added"),
                    ("domain_verified", "domain verified"),
                    ("domain_removed", "domain removed"),
                    ("key_created", "partner key created"),
                    ("key_revoked", "partner key revoked"),
                    ("policy_changed", "filing policy changed"),
                    ("rows_approved_by_policy", "rows approved by policy"),
                    ("sample_drawn", "sample drawn"),
                    ("sample_passed", "sample passed"),
                    ("sample_failed", "sample failed"),
                    ("filing_revoked", "filing's removals revoked"),
                    ("partner_revoked", "every filing's removals revoked"),
                    ("creator_claimed", "creator claimed their account"),
                    ("rows_lifted", "rows lifted by their creator"),
                    ("sample_rows_marked", "sampled rows marked"),
                    ("rows_approved_by_desk", "rows approved by the desk"),
                    ("rows_declined_by_desk", "rows declined by the desk"),
                    ("images_fetched_again", "images to be fetched again"),
                ],
                max_length=40,
            ),
        ),
    ]
