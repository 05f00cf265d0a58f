from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_removal_item_unconstrained"),
    ]

    operations = [
        migrations.AddField(
            model_name="removal",
            name="revoked_reason",
            field=models.CharField(blank=True, db_default="", default="", max_length=500),
        ),
    ]
