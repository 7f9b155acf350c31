"""Text pieces for goals, plans, milestones, feedback, timeline events and message templates."""

# metric: ((name, description), ...) — {target} is the formatted target value
METRIC_GOALS = {
    "weekly_active_users": (
        (
            "Grow weekly active users to {target}",
            "Roll out beyond the pilot group so at least {target} people use it every week.",
        ),
        (
            "Reach {target} weekly active users",
            "Make the platform the daily tool for every team in scope, "
            "not just the early adopters.",
        ),
    ),
    "feature_adoption": (
        (
            "Reach {target} adoption of core workflows",
            "Move licensed users off spreadsheets and email threads and onto the core workflows.",
        ),
        (
            "Lift core feature adoption to {target}",
            "Close the gap between licensed and active users with role-based training.",
        ),
    ),
    "automation_runs": (
        (
            "Run {target} automations a day",
            "Turn the repetitive hand-offs mapped in discovery into automated workflows.",
        ),
        (
            "Scale automation to {target} a day",
            "Extend the first automated workflows to the remaining regional teams.",
        ),
    ),
    "ticket_resolution_hours": (
        (
            "Cut average ticket resolution to under {target}",
            "Route and triage new tickets automatically so agents start on the right ones first.",
        ),
        (
            "Resolve tickets in {target} or less on average",
            "Shorten the queue by giving agents suggested answers and a shared knowledge base.",
        ),
    ),
    "time_saved_hours": (
        (
            "Save {target} of manual work every week",
            "Free the operations team from copy-and-paste work between systems.",
        ),
        (
            "Give back {target} a week to the frontline team",
            "Replace manual status reporting with live dashboards.",
        ),
    ),
    "csat": (
        (
            "Lift support CSAT to {target} or higher",
            "Raise satisfaction with faster, more consistent answers across every channel.",
        ),
        (
            "Keep CSAT at {target} or above through the busy season",
            "Protect service quality while ticket volume grows.",
        ),
    ),
    "onboarding_completion": (
        (
            "Get {target} of invited users through onboarding",
            "Finish onboarding for the newly licensed teams before the next planning cycle.",
        ),
    ),
    "cost_savings": (
        (
            "Deliver {target} in annualized cost savings",
            "Show a return of at least {multiple}x on the {cost} investment through automation.",
        ),
        (
            "Reach {target} in yearly savings from automation",
            "Prove the business case to finance: savings worth {multiple}x the {cost} spent.",
        ),
    ),
}

CUSTOM_GOALS = (
    (
        "Launch a self-service help center",
        "Publish the top fifty answers so customers stop opening tickets for them.",
    ),
    (
        "Secure an executive sponsor for the renewal",
        "Agree a named sponsor on the customer side who owns the business case.",
    ),
    ("Retire the legacy ticketing system", "Switch off the old tool once every queue has moved."),
    (
        "Publish an internal playbook for new hires",
        "Document how the team works in the platform so new starters ramp up alone.",
    ),
    (
        "Roll out single sign-on to every business unit",
        "Remove shared logins and give IT one place to manage access.",
    ),
    (
        "Run a joint customer story workshop",
        "Capture the before-and-after story with the customer's project team.",
    ),
    (
        "Complete the security review with IT",
        "Answer the security questionnaire and close every open finding.",
    ),
    (
        "Train regional managers to build their own reports",
        "Stop routing every reporting request through the central analytics team.",
    ),
)

PLANS = (
    ("Adoption and value plan", "Broaden adoption of {use_case} and prove measurable value."),
    ("Support transformation plan", "Make support faster and more predictable with {use_case}."),
    ("Automation rollout", "Automate the highest-volume manual steps in {use_case}."),
    ("Expansion readiness plan", "Build the case for the next phase of {use_case}."),
    ("Renewal success plan", "Show clear outcomes from {use_case} ahead of the renewal."),
)
ONBOARDING_PLAN = ("Onboarding: {team}", "Bring the {team} team live on {use_case}.")
TEAMS = ("operations", "support", "finance", "regional", "field service", "analytics", "EMEA")

MILESTONES = (
    "Kickoff held and success criteria agreed",
    "Admin training completed",
    "Single sign-on and user provisioning live",
    "First workflow in production",
    "Data integration validated",
    "Second department onboarded",
    "Executive business review held",
    "Reporting handed over to the customer's team",
)
CHECKLIST = (
    "Workspace configured",
    "Users invited",
    "Admin training delivered",
    "First dashboard published",
    "Integrations connected",
    "Go-live sign-off",
)

PRAISE_OPEN = (
    "Honestly, {product} has changed how our team works.",
    "We are really happy with the platform so far.",
    "{csm} has been fantastic to work with.",
    "Great experience from kickoff to go-live.",
    "The rollout went smoother than any tool we have bought before.",
)
PRAISE_DETAIL = {
    "ticket_resolution_hours": "Tickets get resolved much faster since routing is automatic.",
    "feature_adoption": "People actually use it now that the workflows match how we work.",
    "automation_runs": "The automations quietly handle work we used to do by hand.",
    "time_saved_hours": "My team gets hours back every week.",
    "onboarding_completion": "New starters were up and running within days.",
    "cost_savings": "Finance finally sees the savings in black and white.",
    "csat": "Our own customers notice the faster answers.",
    "weekly_active_users": "Every team lead now checks it first thing in the morning.",
}
NEUTRAL = (
    "It does what we need for the most part.",
    "Solid product, but reporting could be more flexible.",
    "Setup took longer than we expected, though it works now.",
    "We only use a fraction of the features and need more training.",
    "Fine overall; a few screens feel cluttered.",
)
CRITICAL = (
    "Performance has been sluggish during our busiest hours.",
    "We still export to spreadsheets for anything non-standard.",
    "Support answers take too long when something breaks.",
    "The last release broke two of our workflows.",
    "Hard to justify the cost at our current level of adoption.",
    "Permissions are confusing for our regional admins.",
)
CLOSE_GOOD = ("Looking forward to the roadmap.", "Keep it up!", "Would recommend to peers.", "")
CLOSE_BAD = ("We need this fixed before the renewal.", "Please follow up.", "")

TIMELINE = {
    "kickoff": ("Kickoff: {plan}", "Agreed goals and success criteria with {contact}."),
    "qbr": ("Quarterly business review held", "Reviewed progress on {use_case} with {contact}."),
    "training": (
        "Admin training session",
        "Walked {contact}'s admins through reporting and roles.",
    ),
    "check_in": ("Executive check-in", "Met {contact} to confirm priorities for the next quarter."),
    "escalation": ("Support escalation opened", "{contact} raised concerns about response times."),
    "renewal": ("Renewal signed", "Renewed for another year."),
}


UPSELL_CRITERIA = (
    "Cut manual ticket triage in half within 90 days.",
    "Every regional team using the new dashboards by the first checkpoint.",
    "Automate month-end reconciliation by day 60.",
    "Save the operations team at least 40 hours a week.",
    "Reach 70% adoption of the added seats in the first quarter.",
    "Pay back the investment within six months.",
    "Bring average resolution time under one business day.",
)
