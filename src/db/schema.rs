// The schema in portable SQL types, shared by both backends.

diesel::table! {
    app_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        template -> Text,
        to_addr -> Text,
        to_name -> Nullable<Text>,
        reply_to -> Nullable<Text>,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        headers -> Text,
        message_id -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        ref_kind -> Nullable<Text>,
        ref_id -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    staff_users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        disabled -> Bool,
        failed_logins -> Integer,
        failed_window_start -> Nullable<Timestamp>,
        last_failed_at -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    staff_sessions (id) {
        id -> Text,
        user_id -> Text,
        csrf_token -> Text,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        second_factor_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    staff_tokens (id) {
        id -> Text,
        user_id -> Text,
        label -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    staff_setup_tokens (token_hash) {
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_label -> Text,
        action -> Text,
        target_kind -> Nullable<Text>,
        target_id -> Nullable<Text>,
        ip_hash -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    staff_login_failures (account_hash, client_hash) {
        account_hash -> Text,
        client_hash -> Text,
        failures -> Integer,
        window_start -> Timestamp,
        last_failed_at -> Timestamp,
    }
}

diesel::table! {
    staff_totp (user_id) {
        user_id -> Text,
        secret -> Text,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    staff_recovery_codes (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    staff_pending_signins (id) {
        id -> Text,
        user_id -> Text,
        account_hash -> Text,
        client_hash -> Text,
        next_path -> Text,
        user_agent -> Nullable<Text>,
        attempts -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    staff_passkeys (id) {
        id -> Text,
        user_id -> Text,
        credential_id -> Text,
        passkey -> Text,
        sign_count -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    staff_webauthn_ceremonies (id) {
        id -> Text,
        purpose -> Text,
        user_id -> Nullable<Text>,
        pending_id -> Nullable<Text>,
        name -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    staff_password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    staff_known_browsers (user_id, device_hash) {
        user_id -> Text,
        device_hash -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::joinable!(staff_sessions -> staff_users (user_id));
diesel::joinable!(staff_password_resets -> staff_users (user_id));
diesel::joinable!(staff_tokens -> staff_users (user_id));
diesel::joinable!(staff_totp -> staff_users (user_id));
diesel::joinable!(staff_recovery_codes -> staff_users (user_id));
diesel::joinable!(staff_pending_signins -> staff_users (user_id));
diesel::joinable!(staff_passkeys -> staff_users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    staff_users,
    staff_sessions,
    staff_tokens,
    staff_totp,
    staff_recovery_codes,
    staff_pending_signins,
    staff_passkeys,
    staff_webauthn_ceremonies,
    staff_password_resets
);

diesel::table! {
    staff_permissions (user_id, permission) {
        user_id -> Text,
        permission -> Text,
        granted_by -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    feedback_votes (id) {
        id -> Text,
        article_url -> Text,
        voter -> Text,
        helpful -> Bool,
        reason -> Nullable<Text>,
        comment -> Nullable<Text>,
        comment_status -> Nullable<Text>,
        comment_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    feedback_notes (id) {
        id -> Text,
        vote_id -> Text,
        author -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    feedback_voter_keys (day) {
        day -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comments (id) {
        id -> Text,
        reference -> Text,
        name -> Text,
        email -> Text,
        subject -> Nullable<Text>,
        message -> Text,
        message_hash -> Text,
        article_url -> Nullable<Text>,
        status -> Text,
        spam_verdict -> Text,
        spam_rule -> Nullable<Text>,
        spam_score -> Integer,
        spam_signals -> Text,
        ip_hash -> Text,
        sensitive -> Bool,
        assigned_to -> Nullable<Text>,
        staff_message_id -> Nullable<Text>,
        ack_message_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        replied_at -> Nullable<Timestamp>,
        confidential -> Bool,
        email_index -> Nullable<Text>,
        kept -> Bool,
        lang -> Nullable<Text>,
    }
}

diesel::table! {
    comment_readers (comment_id, user_id) {
        comment_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    comment_notes (id) {
        id -> Text,
        comment_id -> Text,
        author -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comment_replies (id) {
        id -> Text,
        comment_id -> Text,
        author -> Text,
        message -> Text,
        message_id -> Text,
        outbox_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(feedback_notes -> feedback_votes (vote_id));
diesel::joinable!(comment_notes -> comments (comment_id));
diesel::joinable!(comment_replies -> comments (comment_id));
diesel::allow_tables_to_appear_in_same_query!(feedback_votes, feedback_notes);
diesel::allow_tables_to_appear_in_same_query!(comments, comment_notes, comment_replies);
diesel::joinable!(comment_readers -> comments (comment_id));
diesel::allow_tables_to_appear_in_same_query!(comments, comment_readers);
diesel::allow_tables_to_appear_in_same_query!(comment_readers, staff_users);

diesel::table! {
    donations (id) {
        id -> Text,
        status -> Text,
        provider -> Text,
        frequency -> Text,
        recurring_status -> Nullable<Text>,
        amount_minor -> BigInt,
        fee_minor -> BigInt,
        total_minor -> BigInt,
        currency -> Text,
        email -> Text,
        email_normalized -> Text,
        name -> Nullable<Text>,
        anonymous -> Bool,
        dedication_kind -> Nullable<Text>,
        dedication_name -> Nullable<Text>,
        message -> Nullable<Text>,
        source_url -> Nullable<Text>,
        campaign -> Nullable<Text>,
        utm_source -> Nullable<Text>,
        utm_medium -> Nullable<Text>,
        utm_campaign -> Nullable<Text>,
        utm_term -> Nullable<Text>,
        utm_content -> Nullable<Text>,
        newsletter_opt_in -> Bool,
        ip_hash -> Nullable<Text>,
        provider_session_id -> Nullable<Text>,
        provider_customer_id -> Nullable<Text>,
        provider_subscription_id -> Nullable<Text>,
        checkout_url -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        lang -> Nullable<Text>,
    }
}

diesel::table! {
    donation_payments (id) {
        id -> Text,
        donation_id -> Text,
        receipt_number -> Text,
        provider_ref -> Text,
        provider_payment_intent -> Nullable<Text>,
        provider_charge -> Nullable<Text>,
        status -> Text,
        amount_minor -> BigInt,
        refunded_minor -> BigInt,
        currency -> Text,
        paid_at -> Timestamp,
        created_at -> Timestamp,
        method -> Text,
        reference -> Nullable<Text>,
        fee_minor -> Nullable<BigInt>,
    }
}

diesel::table! {
    donation_adjustments (id) {
        id -> Text,
        payment_id -> Text,
        kind -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    donation_recoveries (id) {
        id -> Text,
        donation_id -> Text,
        state -> Text,
        failed_at -> Timestamp,
        amount_minor -> BigInt,
        currency -> Text,
        followups_sent -> Integer,
        next_followup_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        recovered_minor -> BigInt,
    }
}

diesel::table! {
    donation_subscriptions (donation_id) {
        donation_id -> Text,
        paused_until -> Nullable<Timestamp>,
        synced_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    donation_reminders (donation_id, period) {
        donation_id -> Text,
        period -> Text,
        queued_at -> Timestamp,
    }
}

diesel::table! {
    donation_statements (year, email_normalized) {
        year -> Integer,
        email_normalized -> Text,
        queued_at -> Timestamp,
    }
}

diesel::table! {
    donation_idempotency (key) {
        key -> Text,
        request_hash -> Text,
        donation_id -> Nullable<Text>,
        response -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stripe_events (id) {
        id -> Text,
        event_type -> Text,
        donation_id -> Nullable<Text>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    donation_counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::joinable!(donation_payments -> donations (donation_id));
diesel::joinable!(donation_adjustments -> donation_payments (payment_id));
diesel::joinable!(donation_recoveries -> donations (donation_id));
diesel::joinable!(donation_reminders -> donations (donation_id));
diesel::joinable!(donation_subscriptions -> donations (donation_id));
diesel::allow_tables_to_appear_in_same_query!(
    donations,
    donation_payments,
    donation_adjustments,
    donation_recoveries,
    donation_reminders,
    donation_subscriptions
);

diesel::table! {
    job_postings (id) {
        id -> Text,
        slug -> Text,
        title -> Text,
        summary -> Text,
        description_markdown -> Text,
        description_html -> Text,
        location -> Text,
        country -> Nullable<Text>,
        remote -> Text,
        employment_type -> Text,
        salary_currency -> Nullable<Text>,
        salary_min_minor -> Nullable<BigInt>,
        salary_max_minor -> Nullable<BigInt>,
        salary_period -> Nullable<Text>,
        status -> Text,
        opens_at -> Nullable<Timestamp>,
        closes_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    job_posting_contacts (posting_id, email) {
        posting_id -> Text,
        email -> Text,
    }
}

diesel::table! {
    job_questions (id) {
        id -> Text,
        posting_id -> Text,
        position -> Integer,
        kind -> Text,
        label -> Text,
        required -> Bool,
        active -> Bool,
    }
}

diesel::table! {
    job_applications (id) {
        id -> Text,
        posting_id -> Text,
        name -> Text,
        email -> Text,
        email_normalized -> Text,
        phone -> Nullable<Text>,
        cover_letter -> Nullable<Text>,
        links -> Nullable<Text>,
        stage -> Text,
        cv_stored_name -> Nullable<Text>,
        cv_filename -> Nullable<Text>,
        cv_content_type -> Nullable<Text>,
        cv_size -> Nullable<BigInt>,
        cv_sha256 -> Nullable<Text>,
        consent_at -> Timestamp,
        privacy_notice_version -> Text,
        keep_on_file -> Bool,
        keep_on_file_at -> Nullable<Timestamp>,
        ip_hash -> Nullable<Text>,
        rating_score -> Integer,
        rating_count -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        anonymised_at -> Nullable<Timestamp>,
        lang -> Nullable<Text>,
    }
}

diesel::table! {
    job_application_answers (application_id, question_id) {
        application_id -> Text,
        question_id -> Text,
        value -> Text,
    }
}

diesel::table! {
    job_application_notes (id) {
        id -> Text,
        application_id -> Text,
        author -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    job_application_ratings (application_id, reviewer) {
        application_id -> Text,
        reviewer -> Text,
        rating -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(job_posting_contacts -> job_postings (posting_id));
diesel::joinable!(job_questions -> job_postings (posting_id));
diesel::joinable!(job_applications -> job_postings (posting_id));
diesel::joinable!(job_application_answers -> job_applications (application_id));
diesel::joinable!(job_application_answers -> job_questions (question_id));
diesel::joinable!(job_application_notes -> job_applications (application_id));
diesel::joinable!(job_application_ratings -> job_applications (application_id));

diesel::allow_tables_to_appear_in_same_query!(
    job_postings,
    job_posting_contacts,
    job_questions,
    job_applications,
    job_application_answers,
    job_application_notes,
    job_application_ratings,
);

diesel::table! {
    newsletter_lists (id) {
        id -> Text,
        slug -> Text,
        name -> Text,
        description -> Text,
        is_public -> Bool,
        created_at -> Timestamp,
        lang -> Nullable<Text>,
    }
}

diesel::table! {
    newsletter_subscribers (id) {
        id -> Text,
        email -> Text,
        name -> Nullable<Text>,
        status -> Text,
        source -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        unsubscribed_at -> Nullable<Timestamp>,
        last_confirmation_sent_at -> Nullable<Timestamp>,
        lang -> Nullable<Text>,
    }
}

diesel::table! {
    newsletter_memberships (subscriber_id, list_id) {
        subscriber_id -> Text,
        list_id -> Text,
        status -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    newsletter_confirm_tokens (token_hash) {
        token_hash -> Text,
        subscriber_id -> Text,
        source_url -> Nullable<Text>,
        wording_version -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    newsletter_consents (id) {
        id -> Text,
        subscriber_id -> Text,
        kind -> Text,
        recorded_at -> Timestamp,
        ip_hash -> Nullable<Text>,
        source_url -> Nullable<Text>,
        wording_version -> Nullable<Text>,
    }
}

diesel::table! {
    newsletter_suppressions (email_hash) {
        email_hash -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    newsletter_soft_bounces (email_hash) {
        email_hash -> Text,
        bounces -> Integer,
        last_at -> Timestamp,
    }
}

diesel::table! {
    newsletter_issues (id) {
        id -> Text,
        subject -> Text,
        body_markdown -> Text,
        status -> Text,
        send_at -> Nullable<Timestamp>,
        queue_cursor -> Nullable<Text>,
        queue_done -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        lang -> Nullable<Text>,
        translation_of -> Nullable<Text>,
    }
}

diesel::table! {
    newsletter_issue_lists (issue_id, list_id) {
        issue_id -> Text,
        list_id -> Text,
    }
}

diesel::table! {
    newsletter_deliveries (id) {
        id -> Text,
        issue_id -> Text,
        subscriber_id -> Nullable<Text>,
        outbox_id -> Nullable<Text>,
        skipped_reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(newsletter_memberships -> newsletter_lists (list_id));
diesel::joinable!(newsletter_memberships -> newsletter_subscribers (subscriber_id));
diesel::allow_tables_to_appear_in_same_query!(
    newsletter_lists,
    newsletter_subscribers,
    newsletter_memberships,
    newsletter_issues,
    newsletter_issue_lists,
    newsletter_deliveries,
    newsletter_suppressions,
    outbox,
);

diesel::table! {
    email_links (token_hash) {
        token_hash -> Text,
        email -> Text,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_replays (key) {
        key -> Text,
        seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    backup_runs (id) {
        id -> Text,
        slot -> Nullable<Timestamp>,
        trigger -> Text,
        state -> Text,
        location -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        bytes -> Nullable<BigInt>,
        files -> Nullable<Integer>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    workers (id) {
        id -> Text,
        started_at -> Timestamp,
        heartbeat_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    rate_limits (name, key_hash) {
        name -> Text,
        key_hash -> Text,
        tat -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(outbox, workers);
