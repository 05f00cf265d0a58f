# Indexes that serve the chunked reads of a filing's rows (approval's chunk after the cursor, the
# rows still waiting for an image) at their LIMIT, whatever the filing's size; the foreign keys'
# own indexes dropped where a composite one leads with them (fewer indexes written per row).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0003_merge_claims_files_desk"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="filingrow",
            name="filing_row_state",
        ),
        migrations.AlterField(
            model_name="filingrow",
            name="filing",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rows",
                to="partners.filing",
            ),
        ),
        migrations.AlterField(
            model_name="filingrow",
            name="partner",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="partners.partner",
            ),
        ),
        migrations.AlterField(
            model_name="filingrowitem",
            name="row",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="items",
                to="partners.filingrow",
            ),
        ),
        migrations.AddIndex(
            model_name="filingrow",
            index=models.Index(fields=["filing", "state", "id"], name="filing_row_state_id"),
        ),
        migrations.AddIndex(
            model_name="filingrow",
            index=models.Index(
                condition=models.Q(
                    ("error", ""),
                    ("image_fetched_at__isnull", True),
                    ("pdq__isnull", True),
                    ("phash__isnull", True),
                    ("state", "pending"),
                    models.Q(("image_url", ""), _negated=True),
                ),
                fields=["filing", "id"],
                name="filing_row_needs_image",
            ),
        ),
    ]
